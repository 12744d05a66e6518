"""The pack's tests (a package, so test helpers import as ``tests.unit.motion_fixtures`` etc.;
the repo root is on sys.path through pytest.ini's ``pythonpath = .``)."""
