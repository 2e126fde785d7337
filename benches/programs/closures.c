/* closures: create and call many closures. Each of 10^6 iterations builds two adders
 * and their composition (3 heap-allocated closures), then calls the composition.
 * Closures are hand-rolled: a code pointer plus an environment. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct Closure Closure;
struct Closure {
    int64_t (*code)(Closure *self, int64_t x);
    int64_t n;          /* adder: captured addend */
    Closure *f, *g;     /* compose: captured functions */
};

static Closure *alloc_closure(void) {
    Closure *c = malloc(sizeof *c);
    if (!c) { perror("malloc"); exit(1); }
    return c;
}

static int64_t adder_code(Closure *self, int64_t x) { return x + self->n; }

static Closure *make_adder(int64_t n) {
    Closure *c = alloc_closure();
    c->code = adder_code;
    c->n = n;
    return c;
}

static int64_t compose_code(Closure *self, int64_t x) {
    int64_t y = self->g->code(self->g, x);
    return self->f->code(self->f, y);
}

static Closure *compose(Closure *f, Closure *g) {
    Closure *c = alloc_closure();
    c->code = compose_code;
    c->f = f;
    c->g = g;
    return c;
}

int main(void) {
    volatile int64_t n = 1000000;  /* volatile: no constant folding */
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++) {
        Closure *step = compose(make_adder(i), make_adder(1));
        acc = step->code(step, acc) % 999983;
        free(step->f);
        free(step->g);
        free(step);
    }
    printf("%lld\n", (long long)acc);
    return 0;
}
