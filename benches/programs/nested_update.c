/* nested_update: JSON-like state as structs; users found by name in a small table. */
#include <stdio.h>
#include <string.h>

typedef struct { char name[16]; long visits, last; } User;
typedef struct { User users[64]; int nusers; long total; } State;

static User *user(State *s, const char *name) {
    for (int i = 0; i < s->nusers; i++)
        if (strcmp(s->users[i].name, name) == 0) return &s->users[i];
    User *u = &s->users[s->nusers++];
    snprintf(u->name, sizeof u->name, "%s", name);
    u->visits = 0;
    return u;
}

int main(void) {
    volatile long n = 100000;
    static State s;
    char name[16];
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "u%ld", i % 50);
        User *u = user(&s, name);
        u->visits++;
        u->last = i;
        s.total += i % 7;
    }
    User *u7 = user(&s, "u7");
    printf("%ld\n", s.total + u7->visits + u7->last);
    return 0;
}
