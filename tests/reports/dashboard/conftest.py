import pytest
import time_machine

from tests.reports.dashboard.dash_world import NOW, build_dash_world


@pytest.fixture
def dash(world):
    world_ = build_dash_world(world)
    with time_machine.travel(NOW, tick=False):
        yield world_
