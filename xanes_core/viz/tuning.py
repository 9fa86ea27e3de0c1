"""A tuning study's figures: Optuna's own plotly figures, titled and styled like the others.

Each builder returns the figure, or a one-line reason when the study cannot draw it yet (e.g.
parameter importances need two completed trials).
"""

from __future__ import annotations

from typing import Callable

import optuna
import plotly.graph_objects as go
from optuna import visualization

from xanes_core.learn.studies import OBJECTIVE
from xanes_core.viz.style import base_layout

FIGURES: dict[str, tuple[str, Callable[[optuna.Study], go.Figure], int]] = {
    "history": ("Optimization history (validation balanced accuracy per trial)",
                lambda study: visualization.plot_optimization_history(study, target_name=OBJECTIVE), 1),
    "importances": ("Parameter importances (for the validation balanced accuracy)",
                    lambda study: visualization.plot_param_importances(study, target_name=OBJECTIVE), 2),
    "parallel": ("Parallel coordinates of the completed trials",
                 lambda study: visualization.plot_parallel_coordinate(study, target_name=OBJECTIVE), 1),
    "intermediate": ("Validation balanced accuracy per epoch (pruned trials end early)",
                     visualization.plot_intermediate_values, 1),
}


def study_figures(study: optuna.Study) -> dict[str, go.Figure | str]:
    """Every figure of :data:`FIGURES` that the study can draw, else the reason it cannot."""
    complete = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    figures: dict[str, go.Figure | str] = {}
    for name, (title, build, needs) in FIGURES.items():
        if name != "intermediate" and complete < needs:
            figures[name] = f"{title}: appears once {needs} trial{'s' if needs > 1 else ''} completed."
            continue
        try:
            figures[name] = base_layout(build(study), title, 420)
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            figures[name] = f"{title}: not available yet ({exc})."
    return figures
