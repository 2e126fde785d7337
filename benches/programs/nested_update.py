"""nested_update: JSON-like state (nested dicts) updated in place by events."""


def step(state, i):
    user = state["users"].setdefault("u" + str(i % 50), {})
    user["visits"] = user.get("visits", 0) + 1
    user["last"] = i
    state["stats"]["total"] += i % 7
    return state


def run(n):
    state = {"users": {}, "stats": {"total": 0}}
    for i in range(n):
        state = step(state, i)
    return state["stats"]["total"] + state["users"]["u7"]["visits"] + state["users"]["u7"]["last"]


print(run(100000))
