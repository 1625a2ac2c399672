import atexit
import os
import shutil
import tempfile

# Before TensorFlow, Keras, TFDS or matplotlib are imported: quiet logs, and no test writes
# into the home folder (Keras's config, TFDS's default data folder, matplotlib's cache).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_scratch = tempfile.mkdtemp(prefix="cookbook-tests-")
atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
for _variable, _folder in (("KERAS_HOME", "keras"), ("TFDS_DATA_DIR", "tensorflow_datasets"), ("MPLCONFIGDIR", "mpl")):
    os.environ.setdefault(_variable, os.path.join(_scratch, _folder))
# A shell's cluster or device settings must not leak into the tests.
for _variable in ("TF_CONFIG", "COOKBOOK_VIRTUAL_CPUS", "COOKBOOK_VERBOSE"):
    os.environ.pop(_variable, None)

import ipaddress  # noqa: E402
import socket  # noqa: E402

import pytest  # noqa: E402


def pytest_report_header(config):
    """The machine the suite ran on: results of float arithmetic may depend on the CPU and on
    TensorFlow's oneDNN kernels, so a failure report says which it had."""
    from cookbook.results import cpu_model

    cpu = cpu_model()
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (TensorFlow's default: on for x86)")
    return [f"cpu: {cpu}, {os.cpu_count()} cores", f"TF_ENABLE_ONEDNN_OPTS: {onednn}"]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data folder with `digits` prepared once for the whole session."""
    import tensorflow_datasets as tfds

    import cookbook.data  # noqa: F401  (registers the digits builder)

    folder = tmp_path_factory.mktemp("tensorflow_datasets")
    tfds.builder("digits", data_dir=str(folder)).download_and_prepare()
    return str(folder)


def _is_local(host):
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fails a test that reaches past this machine: only loopback addresses may be used."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise AssertionError(f"a test tried to reach {address[0]}: tests never use the network")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host if isinstance(host, str) or host is None else host.decode()):
            raise AssertionError(f"a test tried to look up {host}: tests never use the network")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def fresh_process_state():
    """What one test sets for the process is undone before the next: the precision policy,
    and the scale set up for the run (TensorFlow's devices themselves stay as they are)."""
    yield
    import keras

    from cookbook.harness import scaling

    keras.mixed_precision.set_global_policy("float32")
    scaling._configured.clear()
