/* string_format: build a CSV-like report line by line with snprintf into a growable
 * buffer, lines separated by newlines. Prints the length of the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    volatile long n = 100000;
    size_t cap = 1024, len = 0;
    char *out = malloc(cap);
    if (!out) { perror("malloc"); return 1; }
    char name[32], line[96];
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "name-%ld", i % 97);
        int k = snprintf(line, sizeof line, "%s%ld,%s,%ld", i ? "\n" : "", i, name, i * 3);
        while (len + (size_t)k + 1 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            if (!out) { perror("realloc"); return 1; }
        }
        memcpy(out + len, line, (size_t)k);
        len += (size_t)k;
    }
    out[len] = '\0';
    printf("%zu\n", strlen(out));
    free(out);
    return 0;
}
