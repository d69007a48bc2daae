"""Development tooling, never shipped: the dev stack (`make run`) and the test harness every test imports."""
