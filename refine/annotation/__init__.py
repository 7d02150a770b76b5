"""Human-in-the-loop annotation: sampling, a resumable store, the web page, agreement.

Light to import: the web router (FastAPI) lives in :mod:`cosmo.refine.annotation.web`.
"""

from cosmo.refine.annotation.agreement import Agreement, agreement, cohen_kappa, fleiss_kappa
from cosmo.refine.annotation.io import (
    AnnotationImportError,
    ImportReport,
    export_labels,
    import_labels,
    labels_to_text,
)
from cosmo.refine.annotation.items import (
    QUESTION_TEXT,
    QUESTIONS,
    Label,
)
from cosmo.refine.annotation.review import (
    adjudicate,
    audit_report,
    decide,
    final_labels,
    sample_audit,
)
from cosmo.refine.annotation.sampling import annotation_weights, weighted_sample
from cosmo.refine.annotation.settings import AnnotationSettings
from cosmo.refine.annotation.store import AnnotationStore

__all__ = [
    "QUESTIONS",
    "QUESTION_TEXT",
    "Agreement",
    "AnnotationImportError",
    "AnnotationSettings",
    "AnnotationStore",
    "ImportReport",
    "Label",
    "adjudicate",
    "agreement",
    "annotation_weights",
    "audit_report",
    "cohen_kappa",
    "decide",
    "export_labels",
    "final_labels",
    "fleiss_kappa",
    "import_labels",
    "labels_to_text",
    "sample_audit",
    "weighted_sample",
]
