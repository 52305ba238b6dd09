"""How a page writes a report's figure: counts without a decimal point, sums and averages
with theirs, thousands separated."""

from __future__ import annotations

import pytest

from propsync.web.core import figure


@pytest.mark.parametrize(("value", "shown"), [
    (51.0, "51"), (51, "51"), (1204.0, "1,204"), (3511.25, "3,511.25"), (2.5, "2.5"),
    (0.333333, "0.33"), (None, "0"), (0.0, "0"), (-12.0, "-12")])
def test_a_figure_is_written_as_people_read_it(value, shown):
    assert figure(value) == shown
