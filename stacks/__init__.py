"""CDK constructs and stacks for SageMaker LMI endpoints (the only package here that imports aws_cdk)."""
from stacks.lmi_endpoint import EndpointSecurity, LmiEndpoint, LmiEndpointProps
from stacks.lmi_endpoint_stack import LmiEndpointStack

__all__ = ["EndpointSecurity", "LmiEndpoint", "LmiEndpointProps", "LmiEndpointStack"]
