/* word_count: count the words of a generated text into an open-addressing hash table
 * keyed by strings. Prints distinct*10^6 + count("w7"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

typedef struct { char *key; long count; } Slot;

static unsigned long hash(const char *s) {
    unsigned long h = 1469598103934665603UL;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211UL; }
    return h;
}

static Slot *find(Slot *table, const char *key) {
    unsigned long i = hash(key) & (SLOTS - 1);
    while (table[i].key && strcmp(table[i].key, key) != 0) i = (i + 1) & (SLOTS - 1);
    return &table[i];
}

int main(void) {
    volatile long n = 200000;
    char *text = malloc((size_t)n * 6 + 1);
    if (!text) { perror("malloc"); return 1; }
    size_t len = 0;
    long seed = 42;
    for (long i = 0; i < n; i++) {
        seed = (seed * 75 + 74) % 65537;
        if (i) text[len++] = ' ';
        len += (size_t)sprintf(text + len, "w%ld", seed % 500);
    }
    Slot *table = calloc(SLOTS, sizeof(Slot));
    long distinct = 0;
    for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) {
        Slot *s = find(table, w);
        if (!s->key) { s->key = w; distinct++; }
        s->count++;
    }
    printf("%ld\n", distinct * 1000000 + find(table, "w7")->count);
    free(table);
    free(text);
    return 0;
}
