/*
 * puzzles.c: the pointer and string mechanics interviewers probe, in C.
 *
 * Part 1 is yours: seven small functions; README.md (`prep exercise show
 * c-strings-and-pointers`) says exactly what each one must do.
 *
 * Part 2 is the command-line protocol the hidden tests speak, given: main()
 * reads the input, puts every buffer just before an inaccessible guard page
 * (so one byte read or written past its end kills the program with SIGSEGV)
 * and just after a run of canary bytes it checks, calls your function and
 * prints what it did. Keep Part 2 as it is; do read it.
 *
 *   gcc -std=gnu11 -O1 -g -Wall -Wextra -o puzzles puzzles.c
 *   printf 'hello' | ./puzzles strlcpy 4
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define COLS 4 /* ints per row of the matrix of `rows` */

size_t my_strlcpy(char *dst, const char *src, size_t size);
size_t split(char *s, char delim, char *fields[], size_t max_fields);
void *my_memmove(void *dst, const void *src, size_t n);
int (*find_op(const char *name))(int);
void apply(int *a, size_t n, int (*fn)(int));
void row_sums(const int (*m)[COLS], size_t nrows, long sums[]);
const int *last_element(const int (*m)[COLS], size_t nrows);

/* ====================================================================
 * Part 1: your functions
 * ==================================================================== */

/* Pointers only: every loop walks a pointer up to an end pointer. */

size_t my_strlcpy(char *dst, const char *src, size_t size)
{
    const char *s = src;
    if (size != 0) {
        char *d = dst;
        char *last = dst + size - 1; /* the byte kept for the '\0' */
        while (d < last && *s != '\0')
            *d++ = *s++;
        *d = '\0';
    }
    while (*s != '\0') /* go on counting what did not fit */
        s++;
    return (size_t)(s - src);
}

size_t split(char *s, char delim, char *fields[], size_t max_fields)
{
    size_t count = 0;
    char *field = s;
    for (;;) {
        /* the next delimiter of this field, or NULL at the last one (a NUL delim cuts nothing:
         * strchr(field, '\0') would find the terminator) */
        char *cut = delim != '\0' ? strchr(field, delim) : NULL;
        if (count < max_fields)
            fields[count] = field;
        count++;
        if (cut == NULL)
            return count;
        *cut = '\0';
        field = cut + 1;
    }
}

void *my_memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((uintptr_t)d <= (uintptr_t)s) {
        const unsigned char *end = s + n;
        while (s != end) /* dst before src: front to back never overwrites an unread byte */
            *d++ = *s++;
    } else {
        unsigned char *dp = d + n; /* dst after src: back to front */
        const unsigned char *sp = s + n;
        while (dp != d)
            *--dp = *--sp;
    }
    return dst;
}

static int op_negate(int x) { return -x; }
static int op_double(int x) { return x + x; }
static int op_square(int x) { return x * x; }
static int op_abs(int x) { return x >= 0 ? x : -x; }

int (*find_op(const char *name))(int)
{
    if (strcmp(name, "negate") == 0)
        return op_negate;
    if (strcmp(name, "double") == 0)
        return op_double;
    if (strcmp(name, "square") == 0)
        return op_square;
    if (strcmp(name, "abs") == 0)
        return op_abs;
    return NULL;
}

void apply(int *a, size_t n, int (*fn)(int))
{
    for (int *const end = a + n; a != end; a++)
        *a = (*fn)(*a);
}

void row_sums(const int (*m)[COLS], size_t nrows, long sums[])
{
    for (size_t i = 0; i < nrows; i++) {
        sums[i] = 0;
        for (size_t j = 0; j < COLS; j++)
            sums[i] += m[i][j];
    }
}

const int *last_element(const int (*m)[COLS], size_t nrows)
{
    if (!nrows)
        return NULL;
    const int (*past)[COLS] = m + nrows; /* one whole row past the end */
    return (const int *)past - 1;        /* cast first, so the - 1 counts one int */
}
/* ====================================================================
 * Part 2: the protocol (given; keep it as it is)
 * ==================================================================== */

#define CANARY_BYTE 0xA5
#define MIN_CANARY 64
#define MAX_GUARDED 4

static _Noreturn void usage(const char *why)
{
    fprintf(stderr,
            "puzzles: %s\n"
            "usage: puzzles strlcpy SIZE             < the source string\n"
            "       puzzles split DELIM MAX_FIELDS   < the string\n"
            "       puzzles memmove SIZE DST SRC N   < exactly SIZE bytes\n"
            "       puzzles apply OPERATION          < integers\n"
            "       puzzles rows                     < integers, 4 per row\n",
            why);
    exit(2);
}

static struct {
    const unsigned char *lo, *start;
    const char *name;
} guarded[MAX_GUARDED];
static int n_guarded;

/* `size` bytes that end exactly where an inaccessible page begins, after at
 * least MIN_CANARY bytes of CANARY_BYTE (with another inaccessible page before
 * those). Reading or writing one byte past the end is a SIGSEGV; writing
 * before the start changes a canary, which check_guards() reports. */
static void *guarded_alloc(size_t size, const char *name)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data = (size + MIN_CANARY + page - 1) / page * page;
    unsigned char *base = mmap(NULL, data + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base, page, PROT_NONE) != 0 || mprotect(base + page + data, page, PROT_NONE) != 0) {
        perror("puzzles: mmap");
        exit(2);
    }
    unsigned char *start = base + page + data - size;
    memset(base + page, CANARY_BYTE, data - size);
    if (n_guarded == MAX_GUARDED)
        abort();
    guarded[n_guarded].lo = base + page;
    guarded[n_guarded].start = start;
    guarded[n_guarded].name = name;
    n_guarded++;
    return start;
}

/* 0 when every canary is intact; otherwise prints which buffer's were changed. */
static int check_guards(void)
{
    int bad = 0;
    for (int i = 0; i < n_guarded; i++) {
        size_t changed = 0;
        for (const unsigned char *p = guarded[i].lo; p < guarded[i].start; p++)
            changed += *p != CANARY_BYTE;
        if (changed) {
            printf("guard: %zu byte(s) just before %s were overwritten\n", changed, guarded[i].name);
            bad = 1;
        }
    }
    return bad;
}

/* All of stdin, binary-safe, with a NUL after it (not counted in *len). */
static char *read_all(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (buf == NULL) {
            perror("puzzles: malloc");
            exit(2);
        }
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) {
            if (ferror(stdin)) {
                perror("puzzles: reading stdin");
                exit(2);
            }
            break;
        }
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static size_t parse_size(const char *text, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value > (1ULL << 30)) {
        fprintf(stderr, "puzzles: %s must be a number from 0 to 2^30, not \"%s\"\n", what, text);
        usage("bad number");
    }
    return (size_t)value;
}

/* The input as a string whose NUL is the last byte before a guard page. */
static char *guarded_string(const char *data, size_t len, const char *name)
{
    if (memchr(data, '\0', len) != NULL)
        usage("this command's input must not contain a NUL byte");
    char *s = guarded_alloc(len + 1, name);
    memcpy(s, data, len + 1);
    return s;
}

/* The whitespace-separated integers of stdin, in a malloc'ed array. */
static int *read_ints(size_t *count)
{
    size_t len, n = 0, cap = 16;
    char *text = read_all(&len);
    int *values = malloc(cap * sizeof *values);
    char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0')
            break;
        char *end;
        errno = 0;
        long value = strtol(p, &end, 10);
        if (end == p || errno != 0 || value < INT32_MIN || value > INT32_MAX)
            usage("the input must be integers that fit in an int, separated by white space");
        if (n == cap) {
            cap *= 2;
            values = realloc(values, cap * sizeof *values);
        }
        if (values == NULL) {
            perror("puzzles: malloc");
            exit(2);
        }
        values[n++] = (int)value;
        p = end;
    }
    free(text);
    *count = n;
    return values;
}

/* A C string literal for n bytes: printable ASCII as is, \" \\ \0 \n and \xHH for the rest. */
static void print_quoted(const char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\0')
            fputs("\\0", stdout);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

/* strlcpy SIZE < src: dst is SIZE bytes of '#' before a guard page. */
static int cmd_strlcpy(int argc, char **argv)
{
    if (argc != 3)
        usage("strlcpy takes SIZE");
    size_t size = parse_size(argv[2], "SIZE"), len;
    char *data = read_all(&len);
    const char *src = guarded_string(data, len, "src");
    char *dst = guarded_alloc(size, "dst");
    memset(dst, '#', size);

    size_t ret = my_strlcpy(dst, src, size);

    printf("return %zu\n", ret);
    if (size == 0) {
        puts("dst has no room");
    } else {
        const char *nul = memchr(dst, '\0', size);
        fputs(nul ? "dst " : "dst unterminated ", stdout);
        print_quoted(dst, nul ? (size_t)(nul - dst) : size);
        putchar('\n');
    }
    int bad = check_guards();
    if (memcmp(src, data, len + 1) != 0) {
        puts("src was modified");
        bad = 1;
    }
    return bad ? 4 : 0;
}

/* split DELIM MAX_FIELDS < s: fields is MAX_FIELDS pointers before a guard page. */
static int cmd_split(int argc, char **argv)
{
    if (argc != 4 || strlen(argv[2]) != 1)
        usage("split takes DELIM (one character) and MAX_FIELDS");
    char delim = argv[2][0];
    size_t max_fields = parse_size(argv[3], "MAX_FIELDS"), len;
    char *data = read_all(&len);
    char *s = guarded_string(data, len, "the string");
    char **fields = guarded_alloc(max_fields * sizeof *fields, "fields");

    size_t count = split(s, delim, fields, max_fields);

    printf("count %zu\n", count);
    int bad = 0;
    for (size_t i = 0; i < count && i < max_fields; i++) {
        uintptr_t at = (uintptr_t)fields[i];
        if (fields[i] == NULL || at < (uintptr_t)s || at > (uintptr_t)(s + len)) {
            printf("field %zu does not point into the string\n", i);
            bad = 1;
            continue;
        }
        printf("field %zu ", i);
        print_quoted(fields[i], strlen(fields[i]));
        putchar('\n');
    }
    return check_guards() || bad ? 4 : 0;
}

static unsigned long long fnv1a(const unsigned char *p, size_t n)
{
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* memmove SIZE DST SRC N < SIZE bytes: buf is SIZE bytes before a guard page. */
static int cmd_memmove(int argc, char **argv)
{
    if (argc != 6)
        usage("memmove takes SIZE DST SRC N");
    size_t size = parse_size(argv[2], "SIZE"), dst = parse_size(argv[3], "DST");
    size_t src = parse_size(argv[4], "SRC"), n = parse_size(argv[5], "N"), len;
    if (dst > size || n > size - dst || src > size || n > size - src)
        usage("DST + N and SRC + N must be at most SIZE");
    char *data = read_all(&len);
    if (len != size)
        usage("memmove reads exactly SIZE bytes from stdin");
    unsigned char *buf = guarded_alloc(size, "buf");
    memcpy(buf, data, size);

    void *ret = my_memmove(buf + dst, buf + src, n);

    puts(ret == buf + dst ? "return dst" : "return is not dst");
    printf("fnv1a %016llx\n", fnv1a(buf, size));
    if (size <= 256) {
        fputs("buf ", stdout);
        for (size_t i = 0; i < size; i++)
            printf("%02x", buf[i]);
        putchar('\n');
    }
    return check_guards() ? 4 : 0;
}

/* apply OPERATION < integers: the array is before a guard page. */
static int cmd_apply(int argc, char **argv)
{
    if (argc != 3)
        usage("apply takes OPERATION");
    size_t n;
    int *values = read_ints(&n);
    int *a = guarded_alloc(n * sizeof *a, "the array");
    memcpy(a, values, n * sizeof *a);

    int (*fn)(int) = find_op(argv[2]);
    if (fn == NULL) {
        puts("unknown operation");
        return check_guards() ? 4 : 3;
    }
    apply(a, n, fn);

    fputs("values", stdout);
    for (size_t i = 0; i < n; i++)
        printf(" %d", a[i]);
    putchar('\n');
    return check_guards() ? 4 : 0;
}

/* rows < integers: the matrix and sums are each before a guard page. */
static int cmd_rows(int argc, char **argv)
{
    (void)argv;
    if (argc != 2)
        usage("rows takes no argument");
    size_t count;
    int *values = read_ints(&count);
    if (count % COLS != 0)
        usage("rows reads whole rows: a multiple of 4 integers");
    size_t nrows = count / COLS;
    void *mem = guarded_alloc(count * sizeof(int), "the matrix");
    memcpy(mem, values, count * sizeof(int));
    const int (*m)[COLS] = mem;
    long *sums = guarded_alloc(nrows * sizeof *sums, "sums");

    row_sums(m, nrows, sums);

    fputs("sums", stdout);
    for (size_t i = 0; i < nrows; i++)
        printf(" %ld", sums[i]);
    putchar('\n');

    const int *last = last_element(m, nrows);

    uintptr_t at = (uintptr_t)last, lo = (uintptr_t)m, hi = (uintptr_t)(m + nrows);
    if (last == NULL)
        puts("last none");
    else if (at < lo || at >= hi || (at - lo) % sizeof(int) != 0)
        puts("last points outside the matrix");
    else
        printf("last %d at index %zu\n", *last, (size_t)((at - lo) / sizeof(int)));
    return check_guards() ? 4 : 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"strlcpy", cmd_strlcpy}, {"split", cmd_split}, {"memmove", cmd_memmove},
        {"apply", cmd_apply},     {"rows", cmd_rows},
    };
    if (argc < 2)
        usage("no command");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc, argv);
    usage("unknown command");
}
