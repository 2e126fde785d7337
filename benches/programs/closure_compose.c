/* closure_compose: function pipelines as closures (function pointer + environment),
 * composed at run time and called through the pointers. */
#include <stdio.h>
#include <stdlib.h>

typedef struct Closure Closure;
struct Closure {
    long (*fn)(const Closure *, long);
    long k;
    const Closure *f, *g;
};

static long call(const Closure *c, long x) { return c->fn(c, x); }
static long identity(const Closure *c, long x) { (void)c; return x; }
static long add_k(const Closure *c, long x) { return x + c->k; }
static long times3(const Closure *c, long x) { (void)c; return x * 3; }
static long modp(const Closure *c, long x) { (void)c; return x % 1000003; }
static long dbl(const Closure *c, long x) { (void)c; return 2 * x; }
static long inc(const Closure *c, long x) { (void)c; return x + 1; }
static long comp(const Closure *c, long x) { return call(c->f, call(c->g, x)); }
static long then(const Closure *c, long x) { return call(c->g, call(c->f, x)); }

int main(void) {
    volatile long rounds = 3000, calls = 100;
    Closure steps[6], chain[6], inc_c = {inc, 0, 0, 0}, dbl_c = {dbl, 0, 0, 0};
    long acc = 0;
    for (long r = 0; r < rounds; r++) {
        steps[0] = (Closure){add_k, r % 7, 0, 0};
        steps[1] = (Closure){times3, 0, 0, 0};
        steps[2] = (Closure){add_k, 7, 0, 0};
        steps[3] = (Closure){modp, 0, 0, 0};
        steps[4] = (Closure){comp, 0, &inc_c, &dbl_c};
        chain[0] = (Closure){identity, 0, 0, 0};
        for (int s = 0; s < 5; s++) chain[s + 1] = (Closure){then, 0, &chain[s], &steps[s]};
        for (long i = 0; i < calls; i++) acc = (acc + call(&chain[5], i + r)) % 1000003;
    }
    printf("%ld\n", acc);
    return 0;
}
