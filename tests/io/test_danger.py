"""danger.prj carries ``@journal = system("hephaestus");``: reading it must run nothing."""

from __future__ import annotations

import builtins
import os
import subprocess

import pytest

from xanes_core.io import read_spectra, read_spectrum


def test_danger_prj_executes_nothing(fixtures_dir, tmp_path, monkeypatch):
    path = fixtures_dir / "spectra" / "athena" / "danger.prj"
    assert 'system("hephaestus")' in path.read_text()
    marker = tmp_path / "executed"
    fake = tmp_path / "bin" / "hephaestus"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")

    def guard(original):
        def forbidden(*args, **kwargs):
            # Python's own imports exec code objects; running text is what must never happen.
            if original is None or (args and isinstance(args[0], (str, bytes))):
                raise AssertionError(f"reader tried to execute {args[:1]!r:.80}")
            return original(*args, **kwargs)

        return forbidden

    monkeypatch.setattr(builtins, "eval", guard(builtins.eval))
    monkeypatch.setattr(builtins, "exec", guard(builtins.exec))
    for owner, attribute in [(os, "system"), (os, "popen"), (subprocess, "Popen")]:
        monkeypatch.setattr(owner, attribute, guard(None))
    try:
        spectrum = read_spectrum(path)
        groups = read_spectra(path.read_bytes(), "danger.prj")
    finally:
        monkeypatch.undo()

    assert not marker.exists()
    assert spectrum.name == "Fe/Ga alloy scan 1" and (spectrum.element, spectrum.edge) == ("Fe", "K")
    assert len(groups) == 1 and spectrum.energy.size == groups[0].energy.size == 341


@pytest.mark.parametrize(
    "statement",
    ["@x = (system('touch /tmp/x'));", "@x = ('1', '2'", "$old_group = 'a' . `id`;"],
)
def test_perl_code_in_wanted_statements_is_refused_not_run(statement):
    from xanes_core.errors import SpectrumError

    text = f"# Athena project file -- Athena version 0.8.023\n{statement}\n@y = ('1');\n[record]\n"
    with pytest.raises(SpectrumError):
        read_spectrum(text.encode(), "evil.prj")
