"""The two ways a provision command ends badly, and turning AWS errors into one readable paragraph.

Exit 2 (`UserError`): the command could not run as asked (no credentials, access denied, unknown stack,
missing cdk.out, not bootstrapped) and changed nothing. Exit 1 (`OperationFailed`): it ran and the
outcome is bad (preflight problems, failed deployment, endpoint not answering).
"""
from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

EXIT_FAILED = 1
EXIT_USAGE = 2

ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
}
BAD_CREDENTIAL_CODES = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
}


class UserError(Exception):
    """Nothing was changed; the paragraph says what to fix."""

    exit_code = EXIT_USAGE


class OperationFailed(Exception):
    """The operation ran and failed (details were already printed)."""

    exit_code = EXIT_FAILED


def one_paragraph(text: str) -> str:
    return " ".join(text.split())


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def error_message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message", "") or str(error)


def is_access_denied(error: BaseException) -> bool:
    return isinstance(error, ClientError) and (
        error_code(error) in ACCESS_DENIED_CODES or error_code(error).startswith("AccessDenied")
    )


def explain_aws_error(error: BaseException) -> UserError | None:
    """The paragraph for errors that mean "your credentials/config cannot do this", else None."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return UserError(
            "no usable AWS credentials were found (environment variables, --profile / AWS_PROFILE, "
            "~/.aws/credentials, SSO or an instance role). Run `aws configure` or `aws sso login`, or "
            "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then retry."
        )
    if isinstance(error, ProfileNotFound):
        return UserError(f"{error}. Check --profile / AWS_PROFILE against ~/.aws/config.")
    if isinstance(error, NoRegionError):
        return UserError(
            "no AWS region is configured. Pass --region, or set AWS_REGION / AWS_DEFAULT_REGION."
        )
    if isinstance(error, EndpointConnectionError):
        return UserError(
            f"cannot reach the AWS endpoint ({error}). Check the network, the region name and "
            "AWS_ENDPOINT_URL if it is set."
        )
    if isinstance(error, ClientError):
        code = error_code(error)
        operation = getattr(error, "operation_name", "the call")
        if is_access_denied(error):
            return UserError(
                f"access denied on {operation}: {error_message(error)}. The credentials in use need "
                f"permission for this action (see the IAM policy of the caller), or use a profile that has it."
            )
        if code in BAD_CREDENTIAL_CODES:
            return UserError(
                f"the AWS credentials were rejected on {operation} ({code}: {error_message(error)}). "
                "Refresh them (`aws sso login`, new access keys) and retry."
            )
    return None


def describe_failure(error: BaseException) -> str:
    """A one-line description of any boto error, for errors that are not about credentials."""
    if isinstance(error, ClientError):
        operation = getattr(error, "operation_name", "AWS call")
        return f"{operation} failed: {error_code(error)}: {error_message(error)}"
    if isinstance(error, BotoCoreError):
        return str(error)
    return repr(error)
