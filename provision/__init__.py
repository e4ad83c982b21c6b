"""boto3 side of the tool: check an account, deploy a synthesized stack, smoke-test it, refresh prices.

Works from a synthesized cloud assembly (`cdk.out`) with boto3 alone, so a laptop or CI job can ship a
stack without the CDK CLI, and every step says exactly what is wrong with the account when it fails.
Never imports aws_cdk.
"""
