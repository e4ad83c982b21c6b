"""The two ways a provision command ends badly, and turning every AWS error into one readable paragraph.

Exit 2 (`UserError`): the command could not run as asked (no credentials, access denied, unknown stack,
missing or malformed cdk.out, no CDK CLI) and changed nothing. Exit 1 (`OperationFailed`): it ran and the
outcome is bad (preflight problems, failed deployment, endpoint not answering, AWS answering garbage).

botocore raises many classes (ClientError for API errors; BotoCoreError subclasses for credentials,
connections, timeouts and responses it cannot parse, such as an HTML 5xx page from a proxy); each one maps
to a paragraph here, with any text AWS sent cut to a short, escaped excerpt.
"""
from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSLError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError  # a plain Exception, not a BotoCoreError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXCERPT_CHARS = 240

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


# Everything botocore raises: API errors, SDK errors, and the parser's error on a non-API body (HTML 5xx).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)


class UserError(Exception):
    """Nothing was changed; the paragraph says what to fix."""

    exit_code = EXIT_USAGE


class OperationFailed(Exception):
    """The operation ran and failed (details were already printed)."""

    exit_code = EXIT_FAILED


def one_paragraph(text: str) -> str:
    return " ".join(text.split())


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of text someone else wrote (an HTML error page, an API message), on one line,
    with control and non-ASCII characters escaped so a terminal shows exactly what came back."""
    flat = one_paragraph(text)
    escaped = flat.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return excerpt(str(error.response.get("Error", {}).get("Message", "") or error))


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
    if isinstance(error, CredentialRetrievalError | TokenRetrievalError):
        return UserError(
            f"the AWS credentials could not be loaded ({excerpt(str(error))}). Log in again (`aws sso login`) "
            "or check the credential_process / role settings of the profile, then retry."
        )
    if isinstance(error, ProfileNotFound):
        return UserError(f"{error}. Check --profile / AWS_PROFILE against ~/.aws/config.")
    if isinstance(error, NoRegionError):
        return UserError(
            "no AWS region is configured. Pass --region, or set AWS_REGION / AWS_DEFAULT_REGION."
        )
    if isinstance(error, EndpointConnectionError):
        return UserError(
            f"cannot reach the AWS endpoint ({excerpt(str(error))}). Check the network, the region name and "
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
    """One paragraph for any boto error that is not about credentials or configuration (exit 1)."""
    if isinstance(error, ClientError):
        operation = getattr(error, "operation_name", "AWS call")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error_code(error) or f"HTTP {status}"
        retry = " AWS had an internal problem; retry in a few minutes." if isinstance(status, int) and status >= 500 else ""
        return f"{operation} failed: {code}: {error_message(error)}.{retry}"
    if isinstance(error, ResponseParserError):
        return (
            "AWS answered with a response that is not in the API's format (often an HTML error page from AWS or "
            f"a proxy during an outage or throttling): {excerpt(str(error))}. Nothing was parsed from it; retry "
            "in a few minutes, and check HTTPS_PROXY / AWS_ENDPOINT_URL if they are set."
        )
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError):
        return (
            f"the connection to AWS failed mid-call ({excerpt(str(error))}). Check the network and retry; an "
            "operation that had already started in AWS keeps running there."
        )
    if isinstance(error, SSLError):
        return f"the TLS connection to AWS failed ({excerpt(str(error))}). Check AWS_CA_BUNDLE and proxies."
    if isinstance(error, BotoCoreError):
        return f"the AWS SDK failed: {type(error).__name__}: {excerpt(str(error))}"
    return f"{type(error).__name__}: {excerpt(str(error))}"
