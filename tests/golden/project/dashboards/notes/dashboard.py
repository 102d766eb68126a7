from dashsite import collector

COLLECTORS = {"items": lambda: ["alpha", "beta"]}


@collector(name="owner")
def who() -> str:
    return "ops"
