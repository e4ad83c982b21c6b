"""Shared endpoints (inference components): pool settings, adapter memory, packing and the pool plan.

Pure Python like the rest of selector/: no boto3, no aws_cdk. stacks/shared_endpoint.py turns a PoolPlan into
CloudFormation.
"""
