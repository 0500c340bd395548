"""Spend-based and activity-based emission factors: the lowest layer of the carbon service.

Plain-Python library (no web framework, no database) that turns procurement spend into
kg CO2e with sector factors, and supplier activity data (kWh, tonnes of fuel) into Scope 1 and
2 emissions, always recording which factor, dataset version and conversions produced a number.
"""

from .activity import (
    ActivityError,
    ActivityResult,
    UnknownActivityError,
    UnknownRegionError,
    activity_emissions,
)
from .classification import METHODS as CLASSIFICATION_METHODS
from .classification import SECTOR_SYSTEM_LABELS, normalise_sector_system
from .currency import (
    ConversionError,
    UnknownCurrencyError,
    YearNotCoveredError,
    convert_money,
    describe_conversion,
    known_currencies,
)
from .datasets import (
    MARGIN_OPTIONS,
    DatasetError,
    DatasetExistsError,
    DatasetMetadata,
    DatasetNotFoundError,
    FactorDataset,
    FactorImportError,
    FactorStore,
    ImportReport,
    import_dataset,
    list_datasets,
    load_dataset,
    margins_label,
    margins_option,
    resolve_store_root,
    starter_dataset,
)
from .estimate import DQ_BY_METHOD, UNCERTAINTY_BY_DQ, EstimateResult, estimate
from .ledger import LedgerError, RowProblem, neutralise_formulas, read_ledger, write_csv
from .units import (
    UnitError,
    UnitMismatchError,
    UnknownUnitError,
    convert,
    dimension_of,
    to_quantity,
    ureg,
)

__all__ = [
    "ActivityError",
    "ActivityResult",
    "CLASSIFICATION_METHODS",
    "ConversionError",
    "DQ_BY_METHOD",
    "DatasetError",
    "DatasetExistsError",
    "DatasetMetadata",
    "DatasetNotFoundError",
    "EstimateResult",
    "FactorDataset",
    "FactorImportError",
    "FactorStore",
    "ImportReport",
    "LedgerError",
    "MARGIN_OPTIONS",
    "RowProblem",
    "SECTOR_SYSTEM_LABELS",
    "UNCERTAINTY_BY_DQ",
    "UnitError",
    "UnitMismatchError",
    "UnknownActivityError",
    "UnknownCurrencyError",
    "UnknownRegionError",
    "UnknownUnitError",
    "YearNotCoveredError",
    "activity_emissions",
    "convert",
    "convert_money",
    "describe_conversion",
    "dimension_of",
    "estimate",
    "import_dataset",
    "known_currencies",
    "list_datasets",
    "load_dataset",
    "margins_label",
    "margins_option",
    "neutralise_formulas",
    "normalise_sector_system",
    "read_ledger",
    "resolve_store_root",
    "starter_dataset",
    "to_quantity",
    "ureg",
    "write_csv",
]
