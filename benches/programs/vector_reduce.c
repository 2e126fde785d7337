/* vector_reduce: build a 10^6-element growable array by appends, then fold it. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct { int64_t *data; size_t len, cap; } Vec;

static void push(Vec *v, int64_t x) {
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->data = realloc(v->data, v->cap * sizeof *v->data);
        if (!v->data) { perror("realloc"); exit(1); }
    }
    v->data[v->len++] = x;
}

int main(void) {
    volatile int64_t n = 1000000;  /* volatile: no constant folding */
    Vec v = {0};
    for (int64_t i = 0; i < n; i++)
        push(&v, 2 * i);
    int64_t sum = 0;
    for (size_t i = 0; i < v.len; i++)
        sum += v.data[i];
    printf("%lld\n", (long long)sum);
    free(v.data);
    return 0;
}
