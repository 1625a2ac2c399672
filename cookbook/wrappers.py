"""Keras models as scikit-learn classifiers, so its ensemble meta-estimators can combine them.

`keras.wrappers.SKLearnClassifier` (Keras 3.15) nearly does this, but four gaps break
scikit-learn's ensembles; `SKLearnClassifier` here is a thin subclass that closes them:

1. `clone` dropped `fit_kwargs`, so every member a meta-estimator cloned trained with
   Keras's defaults (one epoch); here clones keep them (and `random_state`).
2. `fit` updated `fit_kwargs` in place with its own keyword arguments, so one call's
   arguments leaked into the next; here they are merged into a copy.
3. There was no `predict_proba`, which bagging's soft vote, stacking's
   `stack_method="predict_proba"` and AdaBoost's `predict_proba` need; here it returns
   the model's class probabilities, columns in the order of `classes_`.
4. `fit` took no `sample_weight`, so AdaBoost refused the wrapper and bagging resampled
   rows instead of weighting them; here weights reach `model.fit`, rescaled to mean 1 so
   the loss keeps its scale (AdaBoost passes weights that sum to 1).

`random_state` (an int, or None to leave the seeds alone) seeds the member before it is
built, so members of one ensemble start from different weights, reproducibly; the
meta-estimators fill it in for each member from their own `random_state`.

`twins` (a `cookbook.twins.Twins`, optional) makes the members of one architecture train
through one kept model: each member's own model is built and initialized as usual, lends
its state to the kept model, which fits with its graphs traced once, and takes the trained
state back. An ensemble of small networks otherwise spends much of its time tracing each
member's graphs; the numbers are those of each member's own model. The model that trains
gets its optimizer and metric variables before its first `fit` (`cookbook.tracing`); a
member's own model, which never trains, does without them.
"""

import numpy as np
from keras.wrappers import SKLearnClassifier as KerasSKLearnClassifier
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.validation import validate_data

from cookbook.predicting import predict_in_chunks
from cookbook.seeding import seed_everything
from cookbook.tracing import build_training_state
from cookbook.twins import copy_state


class SKLearnClassifier(KerasSKLearnClassifier):
    """`keras.wrappers.SKLearnClassifier` with the four fixes listed in this module's docstring.

    `model` is a callable `model(X, y, **model_kwargs)` returning a compiled Keras model
    whose outputs are class probabilities (the targets arrive one-hot encoded).
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None, random_state=None, twins=None):
        super().__init__(model, warm_start=warm_start, model_kwargs=model_kwargs, fit_kwargs=fit_kwargs)
        self.random_state = random_state
        self.twins = twins

    def __sklearn_clone__(self):
        return type(self)(**{**self.get_params(deep=False), "fit_kwargs": dict(self.fit_kwargs or {})})

    def fit(self, X, y, sample_weight=None, **kwargs):
        if self.random_state is not None:
            seed_everything(int(self.random_state) % 2**31)
        fit_kwargs = {**(self.fit_kwargs or {}), **kwargs}
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype="float64")
            fit_kwargs["sample_weight"] = sample_weight * len(sample_weight) / sample_weight.sum()
        original = self.fit_kwargs
        try:
            self.fit_kwargs = fit_kwargs  # the parent reads (and updates) this dict
            super().fit(X, y)
        finally:
            self.fit_kwargs = original
        if self.twins is not None:  # the parent trained the kept model: take the state back
            copy_state(self.model_, self._own_model)
            self.model_ = self._own_model
            del self._own_model
        return self

    def _get_model(self, X, y):
        model = super()._get_model(X, y)
        batch = (X[:1], y[:1])
        if self.twins is None:
            build_training_state(model, batch)  # one trace of its training step, not two
            return model
        if not self.twins.knows(model, batch):
            # The kept model must not be a member's own, which later members would overwrite:
            # keep a spare, then build the member again from its seed, as if the spare never was.
            spare = super()._get_model(X, y)
            build_training_state(spare, batch)  # the only model of the architecture that trains
            self.twins.load(spare, batch)
            if self.random_state is not None:
                seed_everything(int(self.random_state) % 2**31)
                model = super()._get_model(X, y)
        self._own_model = model
        return self.twins.load(model, batch)

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return predict_in_chunks(self.model_, X)  # not model.predict: see cookbook.predicting

    def predict_proba(self, X):
        probabilities = np.asarray(self.decision_function(X), dtype="float64")
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
