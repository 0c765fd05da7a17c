"""Toxicity from scikit-learn text classifiers: ``predict_proba`` of the toxic class.

Two adapters:

``ProfanityCheckAdapter``
    The linear classifier shipped inside the PyPI package ``alt-profanity-check``
    (the ``sklearn`` extra: ``pip install "bench-nlp[sklearn]"``): a ``TfidfVectorizer``
    and a calibrated linear SVM stored as ``profanity_check/data/{vectorizer,model}.joblib``.
    The adapter reads those two files itself (the same ones ``profanity_check.predict_prob``
    uses) and hashes the bytes it loads. They are pickles, but pickles installed
    from a package the user chose to install, like any other code of theirs.

``SklearnPipelineAdapter``
    Any fitted scikit-learn estimator (normally a ``Pipeline`` from raw text to a
    classifier) that has ``predict_proba``, loaded from the file named by ``path:``
    in the model config, and only from there:

    * ``.skops`` (preferred): ``skops.io.load`` with ``trusted=`` exactly the types
      the config lists under ``trusted:``. Types the file needs beyond skops's
      defaults and that list are reported by name, and nothing is loaded. Blanket
      trust (``trusted: true``) is refused.
    * ``.joblib`` / ``.pkl`` / ``.pickle``: ``joblib.load``. Loading a pickle runs
      arbitrary code from the file, so only load files you made or trust.

    ``positive_class`` names the class whose probability is the toxicity score
    (``1``, ``"toxic"`` …, matched against ``estimator.classes_``).

``identity()`` records the sha256 of every loaded file with the package versions.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bench.adapters.base import LARGE_BATCH, Adapter, Batching
from bench.extras import missing_extra, require
from bench.items import TextItems
from bench.predictions import ToxicityScores

_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_FORMATS = ("auto", "skops", "joblib")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _joblib_load(data: bytes, origin: str) -> tuple[Any, str | None]:
    """Unpickle ``data``; also return the scikit-learn version it was saved with."""
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    saved_with = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obj = joblib.load(io.BytesIO(data))
    for w in caught:
        if isinstance(w.message, InconsistentVersionWarning):
            saved_with = w.message.original_sklearn_version
        warnings.warn_explicit(w.message, w.category, origin, 0)
    # scikit-learn warns only on a mismatch: no warning means saved with this version
    return obj, saved_with or _version("scikit-learn")


class _ProbaToxicityAdapter(Adapter):
    """Scores = ``estimator.predict_proba(texts)[:, column of positive_class]``."""

    tasks: ClassVar[frozenset[str]] = frozenset({"toxicity"})
    preferred_batching: ClassVar[Batching] = Batching(LARGE_BATCH)  # one predict_proba a call

    def _setup(self, estimator: Any, positive_class: Any, name: str) -> None:
        if not callable(getattr(estimator, "predict_proba", None)):
            raise ValueError(
                f"{name}: {type(estimator).__name__} has no predict_proba "
                "(e.g. an SVC needs probability=True, or wrap it in CalibratedClassifierCV)"
            )
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise ValueError(f"{name}: {type(estimator).__name__} has no classes_: is it fitted?")
        classes = list(np.asarray(classes).tolist())
        matches = [i for i, c in enumerate(classes) if c == positive_class]
        if not matches:  # a YAML "1" for an integer class 1, or the reverse
            matches = [i for i, c in enumerate(classes) if str(c) == str(positive_class)]
        if len(matches) != 1:
            raise ValueError(
                f"{name}: positive_class={positive_class!r} is not one of the classifier's "
                f"classes {classes}; set positive_class to the toxic class"
            )
        self.estimator = estimator
        self.classes = classes
        self.positive_class = classes[matches[0]]
        self._column = matches[0]

    def predict_toxicity_scores(self, items: TextItems) -> ToxicityScores:
        if not len(items):
            return ToxicityScores(np.zeros(0))
        proba = np.asarray(self.estimator.predict_proba(items.texts[:]))
        if proba.shape != (len(items), len(self.classes)):
            raise ValueError(
                f"predict_proba returned shape {proba.shape}, "
                f"expected ({len(items)}, {len(self.classes)})"
            )
        # float rounding can land a hair outside [0, 1]; NaN stays NaN for the validator
        return ToxicityScores(np.clip(proba[:, self._column].astype(float), 0.0, 1.0))


class ProfanityCheckAdapter(_ProbaToxicityAdapter):
    """The classifier shipped in ``alt-profanity-check``, scored with ``predict_proba``."""

    PACKAGE = "alt-profanity-check"
    FILES = ("vectorizer.joblib", "model.joblib")

    def __init__(self) -> None:
        from sklearn.pipeline import Pipeline

        # find the package's files without importing it: its __init__ unpickles them too
        spec = importlib.util.find_spec("profanity_check")
        if spec is None or not spec.submodule_search_locations:
            raise missing_extra("profanity_check", "sklearn")
        data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
        self.files: dict[str, str] = {}
        self._saved_with: str | None = None
        loaded = []
        for name in self.FILES:
            path = data_dir / name
            if not path.is_file():
                raise ValueError(f"{self.PACKAGE}: model file {path} is missing")
            data = path.read_bytes()
            self.files[name] = hashlib.sha256(data).hexdigest()
            obj, saved_with = _joblib_load(data, str(path))
            self._saved_with = saved_with
            loaded.append(obj)
        vectorizer, model = loaded
        pipeline = Pipeline([("vectorizer", vectorizer), ("model", model)])
        self._setup(pipeline, 1, self.PACKAGE)

    def identity(self) -> dict[str, Any]:
        return {
            "package": self.PACKAGE,
            "version": _version(self.PACKAGE),
            "sha256": self.files,
            "model": type(self.estimator[-1]).__name__,
            "classes": self.classes,
            "positive_class": self.positive_class,
            "scikit_learn_version": _version("scikit-learn"),
            "saved_with_scikit_learn": self._saved_with,
        }


class SklearnPipelineAdapter(_ProbaToxicityAdapter):
    """A fitted scikit-learn text classifier saved with skops (preferred) or joblib."""

    def __init__(
        self,
        path: str,
        positive_class: Any = 1,
        trusted: list[str] | None = None,
        format: str = "auto",
    ) -> None:
        if not path:
            raise ValueError("path: name the .skops or .joblib file of a fitted pipeline")
        self.path = Path(path).expanduser().resolve()
        if not self.path.is_file():
            raise ValueError(f"path: no such file {self.path}")
        if format not in _FORMATS:
            raise ValueError(f"format={format!r}: expected one of {', '.join(_FORMATS)}")
        if format == "auto":
            suffix = self.path.suffix.lower()
            if suffix == ".skops":
                format = "skops"
            elif suffix in _PICKLE_SUFFIXES:
                format = "joblib"
            else:
                raise ValueError(
                    f"path: cannot tell the format of {self.path.name}; "
                    "set format: skops or format: joblib"
                )
        if isinstance(trusted, bool | str) or (
            trusted is not None and not all(isinstance(t, str) for t in trusted)
        ):
            raise ValueError(
                f"trusted={trusted!r}: expected a list of type names, e.g. "
                "[mymodule.MyTransformer]; blanket trust is not allowed"
            )
        self.format = format
        self.trusted = sorted(trusted or [])
        data = self.path.read_bytes()  # hash exactly the bytes that are loaded
        self.sha256 = hashlib.sha256(data).hexdigest()
        self._saved_with: str | None = None
        if format == "skops":
            estimator = self._load_skops(data)
        else:
            if self.trusted:
                raise ValueError("trusted: only applies to skops files; joblib trusts everything")
            estimator, self._saved_with = _joblib_load(data, str(self.path))
        self._setup(estimator, positive_class, str(self.path))

    def _load_skops(self, data: bytes) -> Any:
        sio = require("skops.io", "sklearn")

        untrusted = sio.get_untrusted_types(data=data)
        missing = sorted(set(untrusted) - set(self.trusted))
        if missing:
            raise ValueError(
                f"{self.path} needs types that skops does not trust by default: "
                f"{', '.join(missing)}. Check that they are safe, then list them in the "
                f"model config: trusted: [{', '.join(missing)}]"
            )
        return sio.loads(data, trusted=list(self.trusted))

    def identity(self) -> dict[str, Any]:
        loader = "skops" if self.format == "skops" else "joblib"
        return {
            "path": str(self.path),
            "format": self.format,
            "sha256": self.sha256,
            "estimator": type(self.estimator).__name__,
            "steps": [type(step).__name__ for _, step in getattr(self.estimator, "steps", [])],
            "classes": self.classes,
            "positive_class": self.positive_class,
            "trusted": self.trusted,
            "scikit_learn_version": _version("scikit-learn"),
            "saved_with_scikit_learn": self._saved_with,  # unknown for skops
            f"{loader}_version": _version(loader),
        }
