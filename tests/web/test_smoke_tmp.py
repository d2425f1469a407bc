import pytest
from tests.web.console import Console
from tests.web.part2 import PART2_POLICY, SPRING_FORWARD_WEEK

async def test_smoke(start_console, clock):
    clock.set(SPRING_FORWARD_WEEK)
    c = await start_console(PART2_POLICY)
    await c.sign_in("alice")
    page = await c.page("/schedule/daily")
    open("/tmp/sched.html","w").write(page)
    page = await c.page("/schedule/daily?view=month")
    open("/tmp/month.html","w").write(page)
    page = await c.page("/my")
    open("/tmp/my.html","w").write(page)
