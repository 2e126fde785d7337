/* string_build: build a long string from 10^5 pieces appended to a growable buffer.
 * Prints the length of the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *data; size_t len, cap; } Buf;

static void append(Buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 64;
        b->data = realloc(b->data, b->cap);
        if (!b->data) { perror("realloc"); exit(1); }
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

int main(void) {
    volatile long n = 100000;  /* volatile: no constant folding */
    Buf b = {0};
    char piece[32];
    for (long i = 0; i < n; i++) {
        int k = snprintf(piece, sizeof piece, "item-%ld;", i);
        append(&b, piece, (size_t)k);
    }
    printf("%zu\n", strlen(b.data));
    free(b.data);
    return 0;
}
