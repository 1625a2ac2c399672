"""Each of the four fixes `cookbook.wrappers.SKLearnClassifier` makes, and the ensembles they enable."""

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.ensemble import AdaBoostClassifier
from sklearn.ensemble import BaggingClassifier
from sklearn.ensemble import StackingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import has_fit_parameter

from cookbook.twins import Twins
from cookbook.wrappers import SKLearnClassifier


def softmax_regression(X, y):
    model = keras.Sequential([keras.Input(X.shape[1:]), keras.layers.Dense(y.shape[1], activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "categorical_crossentropy")
    return model


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype("float32")[:300], y[:300]


def classifier(network=softmax_regression, **kwargs):
    options = {"fit_kwargs": {"epochs": 3, "verbose": 0}, "random_state": 0, **kwargs}
    return SKLearnClassifier(network, **options)


def test_clones_keep_fit_kwargs_and_train_that_long(digits):
    member = clone(classifier())
    assert member.fit_kwargs == {"epochs": 3, "verbose": 0} and member.random_state == 0
    member.fit(*digits)
    assert len(member.history_.history["loss"]) == 3


def test_fit_does_not_leak_its_arguments_into_fit_kwargs(digits):
    model = classifier()
    model.fit(*digits, epochs=1)
    assert model.fit_kwargs == {"epochs": 3, "verbose": 0}
    assert len(model.history_.history["loss"]) == 1


def test_predict_proba_gives_probabilities_in_classes_order(digits):
    X, y = digits
    model = classifier().fit(X, y)
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (len(X), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(model.classes_[probabilities.argmax(axis=1)], model.predict(X))


def test_sample_weight_is_accepted_used_and_scale_free(digits):
    X, y = digits
    assert has_fit_parameter(classifier(), "sample_weight")
    weights = np.where(y == 3, 50.0, 1.0)
    weighted = classifier().fit(X, y, sample_weight=weights)
    rescaled = classifier().fit(X, y, sample_weight=weights / weights.sum())  # AdaBoost's scale
    for a, b in zip(weighted.model_.get_weights(), rescaled.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    uniform = classifier().fit(X, y)
    assert np.sum(weighted.predict(X) == 3) > np.sum(uniform.predict(X) == 3)


def test_random_state_makes_members_reproducible_and_distinct(digits):
    first, again, other = (classifier(random_state=s).fit(*digits) for s in (1, 1, 2))
    np.testing.assert_array_equal(first.model_.get_weights()[0], again.model_.get_weights()[0])
    assert not np.array_equal(first.model_.get_weights()[0], other.model_.get_weights()[0])


def test_scikit_learn_ensembles_run_on_it(digits):
    X, y = digits
    train, held_out = slice(0, 200), slice(200, 300)
    bagging = BaggingClassifier(classifier(), n_estimators=3, random_state=0).fit(X[train], y[train])
    boosting = AdaBoostClassifier(classifier(), n_estimators=3, random_state=0).fit(X[train], y[train])
    members = [classifier(random_state=s).fit(X[train], y[train]) for s in (0, 1)]
    stacking = StackingClassifier(
        [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(members)],
        final_estimator=LogisticRegression(max_iter=500),
    ).fit(X[held_out], y[held_out])
    assert len(bagging.estimators_) == 3 and len(boosting.estimators_) >= 1
    seeds = {member.random_state for member in bagging.estimators_}
    assert len(seeds) == 3  # each member got its own seed from the meta-estimator
    for ensemble in (bagging, boosting, stacking):
        probabilities = ensemble.predict_proba(X[held_out])
        np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)
        assert np.mean(ensemble.predict(X[held_out]) == y[held_out]) > 0.5


def dropout_network(X, y):
    model = keras.Sequential(
        [
            keras.Input(X.shape[1:]),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dropout(0.5),  # its seed state must travel with each member
            keras.layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), "categorical_crossentropy")
    return model


@pytest.mark.parametrize("meta", ["bagging", "boosting", "members"])
def test_members_trained_through_twins_match_members_trained_alone(digits, meta):
    X, y = digits
    twins = Twins()

    def fitted(twins):
        member = classifier(dropout_network, twins=twins)
        if meta == "bagging":
            return BaggingClassifier(member, n_estimators=3, random_state=0).fit(X, y).estimators_
        if meta == "boosting":
            return AdaBoostClassifier(member, n_estimators=3, random_state=0).fit(X, y).estimators_
        return [clone(member).set_params(random_state=s).fit(X, y) for s in (0, 1, 2)]

    alone, through = fitted(None), fitted(twins)
    assert len(alone) == len(through)
    for a, b in zip(alone, through):
        assert b.model_ is not a.model_
        for x, z in zip(a.model_.get_weights(), b.model_.get_weights()):
            np.testing.assert_allclose(x, z, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5, atol=1e-6)
    # Each member keeps its own trained model; they all borrowed one kept model's graphs.
    assert len({id(member.model_) for member in through}) == len(through)
    assert len(twins._kept) == 1
    kept = next(iter(twins._kept.values()))[0]
    assert all(member.model_ is not kept for member in through)
