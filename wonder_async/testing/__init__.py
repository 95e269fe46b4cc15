"""A faithful, stateful Wonder Gateway emulator for tests, demos and clients in any language.

::

    from wonder_async.testing import Emulator

    async with Emulator() as emu:
        async with WonderClient(app_id=emu.app_id, private_key=emu.private_key_pem,
                                base_url=emu.base_url) as wonder:
            ...

``Emulator.in_thread()`` runs one for blocking code; the pytest plugin
(``wonder_async.testing.pytest_plugin``, registered automatically) provides the fixtures
``wonder_emulator`` (async) and ``wonder_emulator_thread`` (blocking). Faults are injected
per route by rate or script (``emu.faults``, or a text spec parsed by :func:`parse_faults`;
grammar in :mod:`wonder_async.testing._faults`) and counted in ``emu.stats``. Where the real
gateway's behaviour is unknown the emulator plays one reading of it, chosen with
``Emulator(readings={"charges": "pending"})`` (:data:`READINGS` lists them, :func:`variants`
gives the sets a guarantee is tested under). Standalone:
``wonder emulator --port 8080`` or ``python -m wonder_async.testing --port 8080``.
"""

from ._faults import ROUTES as ROUTES
from ._faults import Fault as Fault
from ._faults import FaultPlan as FaultPlan
from ._faults import parse_faults as parse_faults
from ._readings import READINGS as READINGS
from ._readings import Readings as Readings
from ._readings import variants as variants
from ._server import Emulator as Emulator
from ._server import generate_key_pair as generate_key_pair

__all__ = [
    "READINGS",
    "ROUTES",
    "Emulator",
    "Fault",
    "FaultPlan",
    "Readings",
    "generate_key_pair",
    "parse_faults",
    "variants",
]
