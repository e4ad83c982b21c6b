"""The AWS side of the tool: what the CDK CLI lacks, around the CDK CLI.

`deploy` / `destroy` run the pinned CDK CLI on a synthesized cloud assembly (`cdk.out`); around them, boto3
checks an account before a deploy (quotas, image in region, bootstrap version), smoke-tests an endpoint after
it (verify), and refreshes instance prices. Every failure ends in one paragraph and an exit code.
Never imports aws_cdk.
"""
