/* tak: Takeuchi function -- deep, non-tail recursion with three arguments. */
#include <stdio.h>
#include <stdint.h>

static __attribute__((noinline)) int64_t tak(int64_t x, int64_t y, int64_t z) {
    if (y < x)
        return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
    return z;
}

int main(void) {
    volatile int64_t x = 24, y = 16, z = 8;  /* volatile: no constant folding */
    printf("%lld\n", (long long)tak(x, y, z));
    return 0;
}
