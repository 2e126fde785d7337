/* pipeline: a collection pipeline over a 10^6-element array -- map, filter, reduce,
 * each step writing a new array as RTFS does. Sum of 3x over the even x below 10^6. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static int64_t *alloc(size_t n) {
    int64_t *p = malloc(n * sizeof *p);
    if (!p) { perror("malloc"); exit(1); }
    return p;
}

int main(void) {
    volatile int64_t n = 1000000;  /* volatile: no constant folding */
    int64_t *data = alloc((size_t)n);
    for (int64_t i = 0; i < n; i++) data[i] = i;

    int64_t *mapped = alloc((size_t)n);
    for (int64_t i = 0; i < n; i++) mapped[i] = data[i] * 3;

    int64_t *kept = alloc((size_t)n);
    size_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (mapped[i] % 2 == 0) kept[k++] = mapped[i];

    int64_t sum = 0;
    for (size_t i = 0; i < k; i++) sum += kept[i];
    printf("%lld\n", (long long)sum);
    free(kept); free(mapped); free(data);
    return 0;
}
