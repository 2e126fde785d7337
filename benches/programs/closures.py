"""closures: create and call many closures. Each of 10^6 iterations builds two adders
and their composition (3 closures), then calls the composition (3 calls)."""


def make_adder(n):
    return lambda x: x + n


def compose(f, g):
    return lambda x: f(g(x))


def run(n):
    acc = 0
    for i in range(n):
        step = compose(make_adder(i), make_adder(1))
        acc = step(acc) % 999983
    return acc


print(run(1000000))
