"""GL mapping: which ledger account every settlement line (and every Finances line) belongs to.

The mapping is customer configuration (a YAML file, ``mlc_assets/default_mapping.yaml`` is the
shipped default). It is validated with pydantic so a typo stops at load time with a message
that points at the entry (``mapping.yaml: rules[7].match.amount_type (line 42): ...``) rather
than at posting time in an ERP.

Sections
--------
``rules``           report lines → category (+ account key). Match fields
                    ``transaction_type``, ``amount_type``, ``amount_description`` (all three
                    required), optional ``marketplace`` and ``currency``.
``finance_rules``   Finances lines → category. Match fields ``event_family`` (alias
                    ``event_list``), ``list``, ``type``.
``accounts``        account key → category, Workday ledger account/worktags, Deltek account/WBS.
                    Special keys: ``clearing`` (the deposit), ``payable`` (a negative settlement:
                    owed to Amazon), ``in_transit`` (month split), ``reserve`` (held by Amazon).
``overrides``       per marketplace and/or currency: replacement account codes for listed keys.
``journal``         posting date rule, month split, summarising, reference prefix.

Matching
--------
Every match field is a glob (``*`` any run, ``?`` one character; nothing else is special) or a
list of globs (any of them), compared case-insensitively after trimming. A missing cell
(null) is matched as the empty string. On report lines ``marketplace`` is the line's
``marketplace-name`` (or, when empty, the settlement's marketplace) and ``currency`` is the
settlement currency.

Precedence: when several rules match a line, the most specific wins:
1. more *literal* fields (a field is literal when none of its globs contains ``*`` or ``?``;
   set ``marketplace``/``currency`` fields count like the three type fields);
2. then more literal characters (sum over the fields; for a list, its shortest alternative);
3. then the earlier rule in the file.

No catch-all: a rule whose three type fields are all pure ``*`` is rejected, and the shipped
mapping names its types explicitly, because an unknown type must stop the settlement (with the
YAML to add, see :func:`suggest_yaml`) rather than be guessed into an account.

Account keys: a rule resolves to ``account_key`` if given, else to the key named like its
category (``principal``, ``shipping``...). Every key a rule can resolve to must exist under
``accounts``. Overrides are applied per settlement (its marketplace and currency), the more
specific override (marketplace *and* currency) last so it wins.
"""

from __future__ import annotations

from mlc_assets.domain.mapping.classify import (
    _KEY_SEP,
    _TRIPLE,
    UnmappedType,
    UnmappedTypesError,
    _classify_by_join,
    _yaml_scalar,
    classify_lines,
    settlement_marketplace,
    suggest_yaml,
    unmapped_types,
)
from mlc_assets.domain.mapping.finance import (
    FINANCE_KEY_COLUMNS,
    UnmappedFinanceType,
    classify_finance_lines,
    unmapped_finance_types,
)
from mlc_assets.domain.mapping.globs import (
    Pattern,
    _check_pattern,
    _Glob,
    _glob_to_regex,
    _specificity,
)
from mlc_assets.domain.mapping.keys import (
    _KEY_RE,
    CLEARING,
    COMPUTED_KEYS,
    DEFAULT_MAPPING_PATH,
    IN_TRANSIT,
    PAYABLE,
    RESERVE,
    SPECIAL_KEYS,
    MappingError,
)
from mlc_assets.domain.mapping.loader import (
    _MAX_EXPANDED_NODES,
    _MAX_NESTING,
    _bad_scalar_line,
    _check_structure,
    _clean_msg,
    _expanded_size,
    _format_loc,
    _is_pydantic_tag,
    _line_of,
    _Loader,
    _walk,
    _yaml_problem,
    load_mapping,
    parse_mapping,
)
from mlc_assets.domain.mapping.model import (
    AccountConfig,
    AccountOverride,
    DeltekAccountRef,
    DeltekOverride,
    FinanceMatch,
    FinanceRule,
    GlMapping,
    JournalSettings,
    Match,
    Override,
    Rule,
    WorkdayAccountRef,
    WorkdayOverride,
    _apply_override,
    _categories,
    _family,
    _Strict,
)

__all__ = [
    "CLEARING",
    "COMPUTED_KEYS",
    "DEFAULT_MAPPING_PATH",
    "FINANCE_KEY_COLUMNS",
    "IN_TRANSIT",
    "PAYABLE",
    "RESERVE",
    "SPECIAL_KEYS",
    "_KEY_RE",
    "_KEY_SEP",
    "_MAX_EXPANDED_NODES",
    "_MAX_NESTING",
    "_TRIPLE",
    "AccountConfig",
    "AccountOverride",
    "DeltekAccountRef",
    "DeltekOverride",
    "FinanceMatch",
    "FinanceRule",
    "GlMapping",
    "JournalSettings",
    "MappingError",
    "Match",
    "Override",
    "Pattern",
    "Rule",
    "UnmappedFinanceType",
    "UnmappedType",
    "UnmappedTypesError",
    "WorkdayAccountRef",
    "WorkdayOverride",
    "_Glob",
    "_Loader",
    "_Strict",
    "_apply_override",
    "_bad_scalar_line",
    "_categories",
    "_check_pattern",
    "_check_structure",
    "_classify_by_join",
    "_clean_msg",
    "_expanded_size",
    "_family",
    "_format_loc",
    "_glob_to_regex",
    "_is_pydantic_tag",
    "_line_of",
    "_specificity",
    "_walk",
    "_yaml_problem",
    "_yaml_scalar",
    "classify_finance_lines",
    "classify_lines",
    "load_mapping",
    "parse_mapping",
    "settlement_marketplace",
    "suggest_yaml",
    "unmapped_finance_types",
    "unmapped_types",
]
