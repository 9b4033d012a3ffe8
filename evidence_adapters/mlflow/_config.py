"""The ``mlflow`` source config: where the registry is, how to log in, which tags mean what."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from checker.adapters import AdapterConfig
from evidence_adapters._http import RetryConfig

__all__ = ["MlflowConfig", "TagNames"]


class TagNames(AdapterConfig):
    """Names of the registered-model and model-version tags the adapter reads."""

    owner_prefix: str = Field(
        "owner.", description="Registered-model tags `<prefix><role>` name the owner of each "
                              "role, e.g. `owner.primary`, `owner.backup`, `owner.risk_owner`.")
    owners: dict[str, str] = Field(
        default_factory=dict,
        description="Extra role → tag name mappings for tags without the prefix, e.g. "
                    "{primary: owner} for a legacy single `owner` tag.")
    system: str = Field("ai_system", description="The AI system (register id) of a model; a "
                                                 "version tag of the same name overrides it.")
    third_party: str = Field("third_party", description="true/false: a vendor (third-party) "
                                                        "model.")
    risk_tier: str = Field("risk_tier", description="The model's risk tier.")
    lifecycle: str = Field("lifecycle", description="The model's lifecycle state.")
    display_name: str = Field("display_name", description="A human-readable model name "
                                                          "(default: the registered name).")
    vendor: str = Field("vendor", description="The vendor of a third-party model or AI "
                                              "system (`attributes.vendor`).")
    status: str = Field("status", description="The AI system's status (`attributes.status`; "
                                              "e.g. production, retired).")
    registered_by: str = Field(
        "registered_by", description="Version tag naming the registrant, used when the server "
                                     "does not record `user_id` (OSS MLflow without auth).")
    registered_at: str = Field(
        "registered_at", description="Version tag holding the original registration time "
        "(ISO 8601 with offset, or epoch ms) when versions were imported or migrated, so "
        "that `creation_timestamp` is the import time; it then replaces it.")
    deployed_by: str = Field("deployed_by", description="Version tag the deploy pipeline sets: "
                                                        "who deployed the version.")
    deployed_at: str = Field("deployed_at", description="Version tag the deploy pipeline sets: "
                                                        "when (ISO 8601 with offset, or epoch ms).")
    requested_by: str = Field("requested_by", description="Version tag: who requested the "
                                                          "release.")


class MlflowConfig(AdapterConfig):
    """Config of an ``mlflow`` source (the keys of its ``sources:`` entry).

    Exactly one of ``tracking_uri`` (a live server; default from ``MLFLOW_TRACKING_URI``)
    and ``offline`` (a folder of saved REST responses) is used.
    """

    tracking_uri: str | None = Field(
        None, description="Base URL of the tracking server, e.g. https://mlflow.example.com. "
                          "Default: the MLFLOW_TRACKING_URI environment variable.")
    offline: str | None = Field(
        None, description="Folder of saved REST responses (registered-models/search/page-*.json, "
                          "model-versions/search/page-*.json, runs/get/<run_id>.json), relative "
                          "to the config file. Replaces `tracking_uri`.")
    replay: tuple[str, ...] | str | None = Field(
        None, description="Saved response bodies of registered-models/search and "
                          "model-versions/search (and runs/get): files, folders or globs, any "
                          "names, each search's pages in the order fetched. They answer the "
                          "live requests, following next_page_token exactly as live. Replaces "
                          "`tracking_uri` and `offline`.")
    token_env: str = Field("MLFLOW_TRACKING_TOKEN",
                           description="Environment variable holding a bearer token.")
    username_env: str = Field("MLFLOW_TRACKING_USERNAME",
                              description="Environment variable holding the basic-auth user.")
    password_env: str = Field("MLFLOW_TRACKING_PASSWORD",
                              description="Environment variable holding the basic-auth password.")
    filter: str | None = Field(
        None, description="An MLflow search filter for registered models, e.g. "
                          "\"tags.ai_system != ''\" (versions of other models are ignored).")
    page_size: int = Field(1000, ge=1, le=1000, description="max_results per page (≤ 1000).")
    timeout: float = Field(30.0, gt=0, description="Seconds per request.")
    token_file: str | None = Field(None, description="A file holding the bearer token "
                                                     "(relative to the config file); replaces "
                                                     "`token_env`.")
    password_file: str | None = Field(None, description="A file holding the basic-auth "
                                                        "password; replaces `password_env`.")
    retry: RetryConfig = Field(default_factory=RetryConfig,
                               description="Retries of connection errors, timeouts, HTTP 429 "
                                           "and 5xx: bounded in count and total time.")
    retries: int | None = Field(None, ge=0, le=10, description="Older spelling of "
                                                               "`retry.max_attempts` − 1.")
    run_user: bool = Field(
        True, description="When a version records no registrant (no user_id, no tag), use the "
                          "user of its source run (one runs/get request per run).")
    tags: TagNames = Field(default_factory=TagNames, description="Tag names.")
    production_aliases: list[str] = Field(
        default_factory=list,
        description="Aliases that mean production for this registry, in addition to the "
                    "global settings.production_aliases.")
    production_stages: list[str] = Field(
        default_factory=list,
        description="Stages that mean production for this registry, in addition to the "
                    "global settings.production_stages.")
    subjects: bool = Field(True, description="Emit each registered model as a `model` subject "
                                             "(false when the AIMS register already lists them).")
    systems: Literal["none", "model", "tag"] = Field(
        "none", description="The registry as AI-system inventory: `model` makes each "
        "registered model an `ai_system` (instead of a `model` subject; its versions' "
        "releases belong to it); `tag` makes each distinct `ai_system` tag an `ai_system` "
        "(owners, risk owner, tier, vendor, status from the tags of its models; two models "
        "naming different owners for one role are recorded as a conflict). `none`: AI "
        "systems come from elsewhere (the register).")
    events: bool = Field(
        False, description="Emit a `model_version_registered` change event per version (at "
        "its creation time, by its registrant, on its AI system, else its model), feeding "
        "the risk-review and stale-sign-off rules; and the events of `event_tags` and "
        "`alias_event_prefix`.")
    event_tags: dict[str, str] = Field(
        default_factory=dict,
        description="With `events: true`: version tags holding an instant (ISO 8601 with an "
        "offset, or epoch ms) → the type of change event each becomes, e.g. {deployed_at: "
        "model_version_deployed, stage_changed_at: model_version_stage_changed}. MLflow keeps "
        "no stage or alias history, so a stage change is an event only where the pipeline "
        "that makes it writes its instant in a tag. The `deployed_at` tag's event names the "
        "`deployed_by` tag as actor.")
    alias_event_prefix: str | None = Field(
        None, min_length=1,
        description="With `events: true`: version tags `<prefix><alias>` (e.g. "
        "`alias_set_at.champion`) hold when the alias was set on the version; each becomes a "
        "`model_version_alias_set` event (its id names the alias).")

    @field_validator("event_tags")
    @classmethod
    def _event_types(cls, v: dict[str, str]) -> dict[str, str]:
        for tag, kind in v.items():
            if not tag.strip() or not kind.strip():
                raise ValueError("event_tags maps a tag name to an event type; neither may "
                                 "be empty")
        return v

    @field_validator("replay", mode="before")
    @classmethod
    def _replay_list(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_source(self) -> MlflowConfig:
        if len([k for k in ("tracking_uri", "offline", "replay")
                if getattr(self, k) is not None]) > 1:
            raise ValueError("give one of `tracking_uri`, `offline` or `replay`")
        if self.retries is not None and "retry" in self.model_fields_set:
            raise ValueError("give `retry.max_attempts` or the older `retries`, not both")
        return self

    def effective_retry(self) -> RetryConfig:
        """``retry``, with the older ``retries: N`` meaning ``max_attempts: N + 1``."""
        if self.retries is None:
            return self.retry
        return self.retry.model_copy(update={"max_attempts": self.retries + 1})
