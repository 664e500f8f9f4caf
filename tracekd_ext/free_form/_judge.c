/* The retrieval-step judge of free-form reasoning (tracekd_ext/free_form/match.py) compiled: the same rules, read
 * in one pass over the folded text without a Python object per token.
 *
 * build() reads a problem's distinct unit texts (folded) into what the judge needs, as match.py's unit_content and
 * NameTables do: each key's name words as ids with idf weights and half weights, the words' forms in a text, each
 * key's dates. judge(index, folded) returns the same (cited, suspect) dicts as match.py's pure-Python judge
 * (_judge_text). Sums of idf weights run over a clause's or key's words in ascending id order, one addition at a
 * time, in both implementations.
 *
 * Tokens are those of match.py's _TOKEN regex: runs of [^\W_] (str.isalnum) with a following "'s"; [.!?] before
 * whitespace (str.isspace) or the end; ";" and "\n". The base events (years, months, separators, conjunctions)
 * and the function words are set once by configure(); a problem's name forms take precedence over the base events,
 * as in match.py's merged dict.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define SENTENCE_END (-2)
#define CONJUNCTION (-1)
#define NAME_WORDS 10000
#define MONTH_REACH 2
#define FIRST_YEAR 1000
#define LAST_YEAR 2199
#define NO_MONTH (-1) /* a date without a month (Python: None) */
#define TIE 1e-12     /* match.py's TIE: a sum of weights within it of a half weight is the half */
static const double AT_LEAST = 1.0 - TIE, MORE_THAN = 1.0 + TIE;

/* ------------------------------------------------------------------------------------------------ tables */

typedef struct {
    uint64_t hash;
    Py_ssize_t start, length; /* the key's code points: arena[start .. start + length) */
    int event;
} Slot;

typedef struct {
    Slot *slots;
    uint16_t *tags; /* per slot: 0 empty, else a tag of the key's hash (probed first: a few cache lines) */
    size_t mask;
    Py_UCS4 *arena;
    Py_ssize_t used;
} Table;

#define HASH_START 1469598103934665603ULL /* FNV-1a over code points */
#define HASH_STEP(h, c) (((h) ^ (uint64_t)(c)) * 1099511628211ULL)
#define HASH_TAG(h) ((uint16_t)((h) >> 48) | 1)

static void table_free(Table *t) {
    PyMem_Free(t->slots);
    PyMem_Free(t->tags);
    PyMem_Free(t->arena);
    t->slots = NULL;
    t->tags = NULL;
    t->arena = NULL;
}

/* An empty table for up to `entries` keys of `points` code points in all. 0 on success. */
static int table_init(Table *t, Py_ssize_t entries, Py_ssize_t points) {
    size_t size = 8;
    while (size < (size_t)entries * 2 + 2) size <<= 1;
    t->slots = PyMem_Malloc(size * sizeof(Slot));
    t->tags = PyMem_Calloc(size, sizeof(uint16_t));
    t->arena = PyMem_Malloc((points + 1) * sizeof(Py_UCS4));
    t->mask = size - 1;
    t->used = 0;
    if (t->slots == NULL || t->tags == NULL || t->arena == NULL) {
        table_free(t);
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* key -> event, over the event a key already has (as a dict's update); key: code points in the arena's free end */
static void table_put(Table *t, Py_ssize_t length, int event) {
    const Py_UCS4 *key = t->arena + t->used;
    uint64_t h = HASH_START;
    for (Py_ssize_t i = 0; i < length; i++) h = HASH_STEP(h, key[i]);
    size_t i = (size_t)h & t->mask;
    for (;; i = (i + 1) & t->mask) {
        Slot *slot = &t->slots[i];
        if (t->tags[i] == 0) {
            *slot = (Slot){h, t->used, length, event};
            t->tags[i] = HASH_TAG(h);
            t->used += length;
            return;
        }
        if (slot->hash == h && slot->length == length &&
            memcmp(t->arena + slot->start, key, length * sizeof(Py_UCS4)) == 0) {
            slot->event = event;
            return;
        }
    }
}

/* Writes a str's code points to the arena's free end (room is reserved by table_init); their number returned. */
static Py_ssize_t table_stage(Table *t, PyObject *text) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_UCS4 *to = t->arena + t->used;
    for (Py_ssize_t i = 0; i < n; i++) to[i] = PyUnicode_READ(kind, data, i);
    return n;
}

/* A table of a str -> int dict. 0 on success. */
static int table_from_dict(Table *t, PyObject *dict) {
    Py_ssize_t pos = 0, points = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "the table's keys are str");
            return -1;
        }
        points += PyUnicode_GET_LENGTH(key);
    }
    if (table_init(t, PyDict_Size(dict), points) < 0) return -1;
    pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        long event = PyLong_AsLong(value);
        if (event == -1 && PyErr_Occurred()) {
            table_free(t);
            return -1;
        }
        table_put(t, table_stage(t, key), (int)event);
    }
    return 0;
}

/* The event of text[start:end] (its hash: h), or 0 when the table does not hold it. */
ALWAYS_INLINE int table_get(const Table *t, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, uint64_t h) {
    Py_ssize_t n = end - start;
    uint16_t tag = HASH_TAG(h);
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint16_t seen = t->tags[i];
        if (seen == 0) return 0;
        if (seen != tag) continue;
        const Slot *slot = &t->slots[i];
        if (slot->hash != h || slot->length != n) continue;
        const Py_UCS4 *key = t->arena + slot->start;
        Py_ssize_t j = 0;
        while (j < n && key[j] == PyUnicode_READ(kind, data, start + j)) j++;
        if (j == n) return slot->event;
    }
}

/* configure(): match.py's _EVENTS but the years (each year's four ASCII digits, read as its number by base_event),
 * and FUNCTION_WORDS (each -> 1) */
static Table base, function_words;

/* The number that four ASCII digits at text[start] write, or -1 */
ALWAYS_INLINE int four_digits(int kind, const void *data, Py_ssize_t start) {
    int number = 0;
    for (Py_ssize_t i = start; i < start + 4; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < '0' || c > '9') return -1;
        number = number * 10 + (int)(c - '0');
    }
    return number;
}

/* The base event of the token text[start:end] (its hash: h), or 0 */
ALWAYS_INLINE int base_event(int kind, const void *data, Py_ssize_t start,
                                                             Py_ssize_t end, uint64_t h) {
    if (end - start == 4) {
        int year = four_digits(kind, data, start);
        if (year >= 0) return year >= FIRST_YEAR && year <= LAST_YEAR ? year : 0;
    }
    return table_get(&base, kind, data, start, end, h);
}

/* ------------------------------------------------------------------------------------------------ index */

typedef struct {
    int year, month, key;
} DateEntry;

typedef struct {
    Table forms; /* a name word's forms in a text -> its id + NAME_WORDS */
    Py_ssize_t keys, words;
    int dated;
    Py_ssize_t *word_start; /* keys + 1: key k's name words are word_ids[word_start[k] .. word_start[k + 1]) */
    int *word_ids;          /* ascending ids (id - NAME_WORDS) */
    double *halves;         /* keys */
    double *weights;        /* words */
    unsigned char *single;  /* words */
    Py_ssize_t *posting_start; /* words + 1 */
    int *postings;             /* ascending keys */
    DateEntry *dates;       /* sorted by year */
    Py_ssize_t date_count;
    /* scratch of one judgement */
    double *weight_sum; /* keys */
    int *stamp;         /* keys */
    int *first_at;      /* keys: the sentence that first states the key, -1 */
    int stamp_now;
} Index;

static void index_free(Index *x) {
    table_free(&x->forms);
    PyMem_Free(x->word_start);
    PyMem_Free(x->word_ids);
    PyMem_Free(x->halves);
    PyMem_Free(x->weights);
    PyMem_Free(x->single);
    PyMem_Free(x->posting_start);
    PyMem_Free(x->postings);
    PyMem_Free(x->dates);
    PyMem_Free(x->weight_sum);
    PyMem_Free(x->stamp);
    PyMem_Free(x->first_at);
    PyMem_Free(x);
}

static void index_capsule_free(PyObject *capsule) {
    Index *x = PyCapsule_GetPointer(capsule, "tracekd_judge.Index");
    if (x != NULL) index_free(x);
}

static int compare_ints(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int compare_date_entries(const void *a, const void *b) { /* by year, key, month */
    const DateEntry *x = a, *y = b;
    if (x->year != y->year) return (x->year > y->year) - (x->year < y->year);
    if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
    return (x->month > y->month) - (x->month < y->month);
}

/* ------------------------------------------------------------------------------------------------ judging */

typedef struct {
    int year, month; /* month: NO_MONTH (None), 0 (taken by a year between), 1-12 */
} Date;

/* growable buffers of one call (the GIL is held throughout) */
typedef struct {
    void *data;
    size_t size;
} Buffer;

static int reserve(Buffer *b, size_t bytes) {
    if (b->size >= bytes) return 0;
    size_t size = b->size ? b->size : 256;
    while (size < bytes) size *= 2;
    void *data = PyMem_Realloc(b->data, size);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->size = size;
    return 0;
}

static Buffer event_buffer, digit_buffer, word_buffer, date_buffer, clause_buffer, unique_buffer, key_buffer,
    keep_buffer;

typedef struct {
    Py_ssize_t word_start, word_end, date_start, date_end; /* in the sentence's word and date arrays */
} Clause;

typedef struct {
    Index *x;
    const int *words;   /* the sentence's clause words (each clause's ascending, distinct) */
    const Date *dates;  /* the sentence's clause dates, as read */
    int *suspect;       /* this sentence: 0 none, 1 needs an unknown entity, 2 asserts a fact no unit holds */
} Judging;

/* Whether date d meets key k's dates: the same year, and the same month where both give one. */
static inline int date_meets(const DateEntry *e, Date d) {
    if (d.month == NO_MONTH) return 1;
    return e->month == NO_MONTH || e->month == d.month;
}

/* The first entry of a year in the sorted date entries (date_count when none). */
static Py_ssize_t first_of_year(const Index *x, int year) {
    Py_ssize_t lo = 0, hi = x->date_count;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (x->dates[mid].year < year) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int meets_any_key(const Index *x, Date d) {
    for (Py_ssize_t i = first_of_year(x, d.year); i < x->date_count && x->dates[i].year == d.year; i++)
        if (date_meets(&x->dates[i], d)) return 1;
    return 0;
}

static int next_stamp(Index *x) {
    if (++x->stamp_now == INT32_MAX) {
        memset(x->stamp, 0, x->keys * sizeof(int));
        x->stamp_now = 1;
    }
    return x->stamp_now;
}

/* The ids key k shares with the words (ascending), written to `shared`; how many returned. */
static Py_ssize_t shared_words(const Index *x, Py_ssize_t k, const int *words, Py_ssize_t count, int *shared) {
    const int *kw = x->word_ids + x->word_start[k], *kend = x->word_ids + x->word_start[k + 1];
    Py_ssize_t i = 0, found = 0;
    while (kw < kend && i < count) {
        if (*kw < words[i]) kw++;
        else if (*kw > words[i]) i++;
        else {
            shared[found++] = *kw;
            kw++;
            i++;
        }
    }
    return found;
}

/* The keys a date of given[0 .. dates) meets, each once, into out; how many returned. */
static Py_ssize_t date_candidates(Index *x, const Date *given, Py_ssize_t dates, int *out) {
    int stamp = next_stamp(x);
    Py_ssize_t found = 0;
    for (Py_ssize_t d = 0; d < dates; d++) {
        for (Py_ssize_t i = first_of_year(x, given[d].year); i < x->date_count && x->dates[i].year == given[d].year; i++) {
            const DateEntry *e = &x->dates[i];
            if (x->stamp[e->key] == stamp || !date_meets(e, given[d])) continue;
            x->stamp[e->key] = stamp;
            out[found++] = e->key;
        }
    }
    return found;
}

/* match.py's _stated: the candidate keys (those a clause's dates meet) whose name weight the words hold (at least
 * half; a word of the key's own when there are more than two keys). Written to `out`; how many returned. */
static Py_ssize_t stated_keys(const Index *x, const int *words, Py_ssize_t count, const int *candidates,
                              Py_ssize_t candidate_count, int *out) {
    int own_words = x->keys > 2;
    Py_ssize_t found = 0;
    for (Py_ssize_t c = 0; c < candidate_count; c++) {
        Py_ssize_t k = candidates[c];
        const int *kw = x->word_ids + x->word_start[k], *kend = x->word_ids + x->word_start[k + 1];
        Py_ssize_t w = 0;
        double total = 0.0;
        int held = 0, own = 0;
        while (kw < kend && w < count) {
            if (*kw < words[w]) kw++;
            else if (*kw > words[w]) w++;
            else {
                if (own_words && x->single[*kw]) {
                    own = 1;
                    break;
                }
                total += x->weights[*kw];
                held = 1;
                kw++;
                w++;
            }
        }
        if (own || (held && total >= x->halves[k] * AT_LEAST)) out[found++] = (int)k;
    }
    return found;
}

/* match.py's _named: keys whose name weight the words hold at least half of (dated; more than half where no unit
 * carries a date), or one of whose own words they hold (dated, more than two keys). Written to `out`. */
static Py_ssize_t named_keys(Index *x, const int *words, Py_ssize_t count, int *out) {
    int stamp = next_stamp(x), own_words = x->dated && x->keys > 2;
    Py_ssize_t touched = 0, found = 0;
    int *touched_keys = out + x->keys; /* out holds 2 * keys ints */
    for (Py_ssize_t i = 0; i < count; i++) {
        int w = words[i];
        Py_ssize_t start = x->posting_start[w], end = x->posting_start[w + 1];
        double idf = x->weights[w];
        for (Py_ssize_t p = start; p < end; p++) {
            int k = x->postings[p];
            if (x->stamp[k] != stamp) {
                x->stamp[k] = stamp;
                x->weight_sum[k] = 0.0;
                touched_keys[touched++] = k;
            }
            x->weight_sum[k] += idf;
        }
        if (own_words && end - start == 1) x->weight_sum[x->postings[start]] = INFINITY; /* named: its own word */
    }
    for (Py_ssize_t t = 0; t < touched; t++) {
        int k = touched_keys[t];
        double total = x->weight_sum[k];
        if (total == INFINITY || (x->dated ? total >= x->halves[k] * AT_LEAST : total > x->halves[k] * MORE_THAN))
            out[found++] = k;
    }
    return found;
}

/* match.py's _undominated, then cited.setdefault(k, at) for each key kept. */
static int cite_undominated(Judging *j, const int *words, Py_ssize_t count, const int *keep, Py_ssize_t kept,
                            int at) {
    Index *x = j->x;
    int *dominated = NULL;
    if (kept >= 2) {
        /* shared[i]: key keep[i]'s words among `words` (ascending), in one buffer */
        if (reserve(&keep_buffer, (size_t)(kept * (count + 2) + kept) * sizeof(int)) < 0) return -1;
        int *shared = keep_buffer.data, *sizes = shared + kept * count;
        dominated = sizes + kept;
        for (Py_ssize_t i = 0; i < kept; i++) sizes[i] = (int)shared_words(x, keep[i], words, count, shared + i * count);
        for (Py_ssize_t i = 0; i < kept; i++) {
            dominated[i] = 0;
            for (Py_ssize_t o = 0; o < kept && !dominated[i]; o++) {
                if (o == i || keep[o] == keep[i] || sizes[o] <= sizes[i]) continue;
                /* is shared[i] a subset of shared[o]? both ascending */
                const int *a = shared + i * count, *b = shared + o * count;
                Py_ssize_t p = 0, q = 0;
                while (p < sizes[i] && q < sizes[o]) {
                    if (a[p] == b[q]) p++, q++;
                    else if (a[p] > b[q]) q++;
                    else break;
                }
                dominated[i] = p == sizes[i];
            }
        }
    }
    for (Py_ssize_t i = 0; i < kept; i++) {
        if (dominated && dominated[i]) continue;
        int k = keep[i];
        if (x->first_at[k] < 0) x->first_at[k] = at;
    }
    return 0;
}

static int compare_dates(const void *a, const void *b) {
    const Date *x = a, *y = b;
    if (x->year != y->year) return (x->year > y->year) - (x->year < y->year);
    return (x->month > y->month) - (x->month < y->month);
}

/* distinct dates of dates[0..count) into out (sorted); count of them returned */
static Py_ssize_t distinct_dates(const Date *dates, Py_ssize_t count, Date *out) {
    memcpy(out, dates, count * sizeof(Date));
    qsort(out, count, sizeof(Date), compare_dates);
    Py_ssize_t found = 0;
    for (Py_ssize_t i = 0; i < count; i++)
        if (found == 0 || compare_dates(&out[found - 1], &out[i]) != 0) out[found++] = out[i];
    return found;
}

/* match.py's _judge_dated for one sentence */
static int judge_dated(Judging *j, const Clause *clauses, Py_ssize_t count, Py_ssize_t all_dates, int at) {
    Index *x = j->x;
    if (all_dates == 0) return 0;
    if (reserve(&unique_buffer, (size_t)(all_dates * 2) * sizeof(Date)) < 0) return -1;
    if (reserve(&key_buffer, (size_t)(x->keys * 5 + 5) * sizeof(int)) < 0) return -1;
    Date *borrowed = unique_buffer.data, *own = borrowed + all_dates;
    /* the keys: the sentence's dates meet, a clause's own dates meet, stated or named (2 x keys) */
    int *borrowed_keys = key_buffer.data, *own_keys = borrowed_keys + x->keys + 1, *keys = own_keys + x->keys + 1;
    Py_ssize_t borrowed_count = distinct_dates(j->dates, all_dates, borrowed);
    int borrowed_invented = 0;
    for (Py_ssize_t d = 0; d < borrowed_count && !borrowed_invented; d++)
        borrowed_invented = !meets_any_key(x, borrowed[d]);
    /* once per sentence: its clauses without dates share them */
    Py_ssize_t borrowed_key_count = date_candidates(x, borrowed, borrowed_count, borrowed_keys);
    for (Py_ssize_t c = 0; c < count; c++) {
        const Clause *clause = &clauses[c];
        const int *words = j->words + clause->word_start;
        Py_ssize_t word_count = clause->word_end - clause->word_start;
        Py_ssize_t own_count = clause->date_end - clause->date_start;
        const int *candidates;
        Py_ssize_t candidate_count;
        int invented = 0;
        if (own_count) {
            Py_ssize_t given = distinct_dates(j->dates + clause->date_start, own_count, own);
            for (Py_ssize_t d = 0; d < given && !invented; d++) invented = !meets_any_key(x, own[d]);
            candidate_count = date_candidates(x, own, given, own_keys);
            candidates = own_keys;
        } else if (borrowed_invented || word_count == 0) {
            continue;
        } else {
            candidates = borrowed_keys;
            candidate_count = borrowed_key_count;
        }
        if (word_count == 0) {
            if (*j->suspect == 0) *j->suspect = 1;
            continue;
        }
        Py_ssize_t stated = invented ? 0 : stated_keys(x, words, word_count, candidates, candidate_count, keys);
        if (own_count && stated == 0) {
            if (named_keys(x, words, word_count, keys) > 0) *j->suspect = 2;
            else if (*j->suspect == 0) *j->suspect = 1;
        }
        if (cite_undominated(j, words, word_count, keys, stated, at) < 0) return -1;
    }
    return 0;
}

/* match.py's _judge_undated for one sentence */
static int judge_undated(Judging *j, const Clause *clauses, Py_ssize_t count, int at) {
    Index *x = j->x;
    if (reserve(&key_buffer, (size_t)(x->keys * 2 + 2) * sizeof(int)) < 0) return -1;
    int *keys = key_buffer.data;
    for (Py_ssize_t c = 0; c < count; c++) {
        const int *words = j->words + clauses[c].word_start;
        Py_ssize_t word_count = clauses[c].word_end - clauses[c].word_start;
        if (word_count == 0) continue;
        Py_ssize_t named = named_keys(x, words, word_count, keys);
        if (cite_undominated(j, words, word_count, keys, named, at) < 0) return -1;
    }
    return 0;
}

/* [^\W_] and \s of Python's re on str patterns */
ALWAYS_INLINE int is_word_char(Py_UCS4 c) {
    if (c < 128) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return Py_UNICODE_ISALNUM(c);
}

static inline int is_space(Py_UCS4 c) {
    if (c < 128) return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
    return Py_UNICODE_ISSPACE(c);
}

static inline int is_digit(Py_UCS4 c) { return c < 128 ? c >= '0' && c <= '9' : Py_UNICODE_ISDIGIT(c); }

/* Whether c, text[i] of n characters, ends a sentence: match.py's _SEPARATOR ([.!?] before whitespace or the end,
 * ";", a line end) */
ALWAYS_INLINE int ends_sentence(Py_UCS4 c, int kind, const void *data, Py_ssize_t i, Py_ssize_t n) {
    return c == ';' || c == '\n' ||
           ((c == '.' || c == '!' || c == '?') && (i + 1 == n || is_space(PyUnicode_READ(kind, data, i + 1))));
}

/* Where the stem of the token text[start:end] ends: match.py's stem (a possessive "'s", then a plural "s" but of
 * "ss", dropped) */
static inline Py_ssize_t stem_end(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    if (end - start >= 2 && PyUnicode_READ(kind, data, end - 2) == '\'' && PyUnicode_READ(kind, data, end - 1) == 's')
        end -= 2;
    if (end - start > 3 && PyUnicode_READ(kind, data, end - 1) == 's' && PyUnicode_READ(kind, data, end - 2) != 's')
        end -= 1;
    return end;
}

/* Where the word token starting at text[start] ends: a run of [^\W_] with a following "'s" (match.py's _TOKEN);
 * *hash: its hash, *all_digits: whether it is all digits (str.isdigit) */
ALWAYS_INLINE Py_ssize_t word_end(int kind, const void *data, Py_ssize_t start, Py_ssize_t n, uint64_t *hash,
                                  int *all_digits) {
    Py_ssize_t i = start;
    int digits = 1;
    uint64_t h = HASH_START;
    Py_UCS4 c = 0;
    while (i < n && is_word_char(c = PyUnicode_READ(kind, data, i))) {
        digits &= is_digit(c);
        h = HASH_STEP(h, c);
        i++;
    }
    if (i + 1 < n && c == '\'' && PyUnicode_READ(kind, data, i + 1) == 's') {
        h = HASH_STEP(HASH_STEP(h, '\''), 's');
        i += 2;
        digits = 0;
    }
    *hash = h;
    *all_digits = digits;
    return i;
}

/* The events of the tokens of text (0: a token without one); digits[t]: token t is all digits (str.isdigit).
 * Returns the number of tokens. Inlined for each kind of str, so that reading a character is one load. */
ALWAYS_INLINE Py_ssize_t read_events_of(const Index *x, const int kind, const void *data, Py_ssize_t n, int *events,
                                        unsigned char *digits) {
    Py_ssize_t count = 0, i = 0;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (is_word_char(c)) {
            Py_ssize_t start = i;
            int all_digits;
            uint64_t h;
            i = word_end(kind, data, start, n, &h, &all_digits);
            /* the problem's name forms, else the base events */
            int event = table_get(&x->forms, kind, data, start, i, h);
            digits[count] = (unsigned char)all_digits;
            events[count++] = event ? event : base_event(kind, data, start, i, h);
        } else {
            if (ends_sentence(c, kind, data, i, n)) {
                digits[count] = 0;
                events[count++] = SENTENCE_END;
            }
            i++;
        }
    }
    return count;
}

static Py_ssize_t read_events(const Index *x, PyObject *text, int **events_out, unsigned char **digits_out) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (reserve(&event_buffer, (size_t)(n + 2) * sizeof(int)) < 0 || reserve(&digit_buffer, (size_t)n + 2) < 0)
        return -1;
    int *events = *events_out = event_buffer.data;
    unsigned char *digits = *digits_out = digit_buffer.data;
    const void *data = PyUnicode_DATA(text);
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        return read_events_of(x, PyUnicode_1BYTE_KIND, data, n, events, digits);
    case PyUnicode_2BYTE_KIND:
        return read_events_of(x, PyUnicode_2BYTE_KIND, data, n, events, digits);
    default:
        return read_events_of(x, PyUnicode_4BYTE_KIND, data, n, events, digits);
    }
}

/* match.py's _month_before */
static inline int month_before(const int *events, Py_ssize_t i) {
    int taken = 0;
    Py_ssize_t stop = i - MONTH_REACH > 0 ? i - MONTH_REACH : 0;
    for (Py_ssize_t t = i - 1; t >= stop; t--) {
        int event = events[t];
        if (event < 1 || event >= NAME_WORDS) continue;
        if (event <= 12) return taken ? 0 : event;
        taken = 1;
    }
    return NO_MONTH;
}

static PyObject *judge_text(PyObject *self, PyObject *args) {
    PyObject *capsule, *folded;
    if (!PyArg_ParseTuple(args, "OU", &capsule, &folded)) return NULL;
    Index *x = PyCapsule_GetPointer(capsule, "tracekd_judge.Index");
    if (x == NULL) return NULL;
    if (base.slots == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "judge: configure() was not called");
        return NULL;
    }
    int *events;
    unsigned char *digits;
    Py_ssize_t tokens = read_events(x, folded, &events, &digits);
    if (tokens < 0) return NULL;
    events[tokens] = SENTENCE_END;
    Py_ssize_t last = tokens - 1;
    for (Py_ssize_t k = 0; k < x->keys; k++) x->first_at[k] = -1;
    PyObject *suspects = PyDict_New();
    if (suspects == NULL) return NULL;
    Judging j = {x, NULL, NULL, NULL};
    int sentence = 0;
    Py_ssize_t start = 0;
    while (start <= tokens) {
        Py_ssize_t end = start;
        int has_year = 0, has_event = 0;
        while (events[end] != SENTENCE_END) {
            int event = events[end];
            has_event |= event != 0;
            has_year |= event >= FIRST_YEAR && event <= LAST_YEAR;
            end++;
        }
        if (x->dated ? !has_year : !has_event) {
            start = end + 1;
            sentence++;
            continue;
        }
        /* clauses of the sentence: at most one per token plus one */
        Py_ssize_t span = end - start + 1;
        if (reserve(&word_buffer, (size_t)span * sizeof(int)) < 0 || reserve(&date_buffer, (size_t)span * sizeof(Date)) < 0 ||
            reserve(&clause_buffer, (size_t)span * sizeof(Clause)) < 0) {
            Py_DECREF(suspects);
            return NULL;
        }
        int *words = word_buffer.data;
        Date *dates = date_buffer.data;
        Clause *clauses = clause_buffer.data;
        Py_ssize_t word_count = 0, date_count = 0, clause_count = 0, word_start = 0, date_start = 0;
        for (Py_ssize_t i = start; i <= end; i++) {
            int event = i < end ? events[i] : CONJUNCTION; /* the sentence's end closes its last clause */
            if (event == 0) continue;
            if (event >= NAME_WORDS) {
                words[word_count++] = event - NAME_WORDS;
            } else if (event >= FIRST_YEAR) {
                dates[date_count++] = (Date){event, month_before(events, i)};
            } else if (event == CONJUNCTION) {
                if (i < end && 0 < i && i < last && digits[i - 1] && digits[i + 1]) continue; /* "1990 and 1999" */
                if (word_count > word_start || date_count > date_start) {
                    /* the clause's words ascending and distinct */
                    qsort(words + word_start, word_count - word_start, sizeof(int), compare_ints);
                    Py_ssize_t distinct = word_start;
                    for (Py_ssize_t w = word_start; w < word_count; w++)
                        if (distinct == word_start || words[distinct - 1] != words[w]) words[distinct++] = words[w];
                    clauses[clause_count++] = (Clause){word_start, distinct, date_start, date_count};
                    word_count = word_start = distinct;
                    date_start = date_count;
                }
            }
        }
        if (clause_count) {
            int suspect = 0;
            j.words = words;
            j.dates = dates;
            j.suspect = &suspect;
            int failed = x->dated ? judge_dated(&j, clauses, clause_count, date_count, sentence)
                                  : judge_undated(&j, clauses, clause_count, sentence);
            if (failed < 0) {
                Py_DECREF(suspects);
                return NULL;
            }
            if (suspect) {
                PyObject *at = PyLong_FromLong(sentence);
                if (at == NULL || PyDict_SetItem(suspects, at, suspect == 1 ? Py_True : Py_False) < 0) {
                    Py_XDECREF(at);
                    Py_DECREF(suspects);
                    return NULL;
                }
                Py_DECREF(at);
            }
        }
        start = end + 1;
        sentence++;
    }
    PyObject *cited = PyDict_New();
    if (cited == NULL) {
        Py_DECREF(suspects);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < x->keys; k++) {
        if (x->first_at[k] < 0) continue;
        PyObject *key = PyLong_FromSsize_t(k), *at = PyLong_FromLong(x->first_at[k]);
        if (key == NULL || at == NULL || PyDict_SetItem(cited, key, at) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(at);
            Py_DECREF(cited);
            Py_DECREF(suspects);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(at);
    }
    return Py_BuildValue("(NN)", cited, suspects);
}

/* match.py's fold: ASCII letters lower-cased, each maximal run of other characters replaced by fold_chars(run) (its
 * fold, cached by match.py); a new reference. */
static PyObject *fold_text(PyObject *text, PyObject *fold_chars) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    if (PyUnicode_IS_ASCII(text)) { /* str.lower */
        const Py_UCS1 *bytes = data;
        while (i < n && !(bytes[i] >= 'A' && bytes[i] <= 'Z')) i++;
        if (i == n) {
            Py_INCREF(text);
            return text;
        }
        PyObject *lowered = PyUnicode_New(n, 127);
        if (lowered == NULL) return NULL;
        Py_UCS1 *out = PyUnicode_1BYTE_DATA(lowered);
        for (i = 0; i < n; i++) out[i] = (Py_UCS1)(bytes[i] >= 'A' && bytes[i] <= 'Z' ? bytes[i] + ('a' - 'A') : bytes[i]);
        return lowered;
    }
    PyObject *pieces = PyList_New(0), *piece = NULL;
    if (pieces == NULL) return NULL;
    while (i < n) {
        Py_ssize_t start = i;
        if (PyUnicode_READ(kind, data, i) < 128) {
            while (i < n && PyUnicode_READ(kind, data, i) < 128) i++;
            if ((piece = PyUnicode_New(i - start, 127)) == NULL) goto error;
            Py_UCS1 *out = PyUnicode_1BYTE_DATA(piece);
            for (Py_ssize_t t = start; t < i; t++) {
                Py_UCS4 c = PyUnicode_READ(kind, data, t);
                out[t - start] = (Py_UCS1)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            }
        } else {
            while (i < n && PyUnicode_READ(kind, data, i) >= 128) i++;
            PyObject *run = PyUnicode_Substring(text, start, i);
            if (run == NULL) goto error;
            piece = PyObject_CallOneArg(fold_chars, run);
            Py_DECREF(run);
            if (piece == NULL) goto error;
            if (!PyUnicode_Check(piece)) {
                PyErr_SetString(PyExc_TypeError, "fold: fold_chars returns str");
                goto error;
            }
        }
        if (PyList_Append(pieces, piece) < 0) goto error;
        Py_CLEAR(piece);
    }
    PyObject *empty = PyUnicode_New(0, 0);
    PyObject *folded = empty == NULL ? NULL : PyUnicode_Join(empty, pieces);
    Py_XDECREF(empty);
    Py_DECREF(pieces);
    return folded;
error:
    Py_XDECREF(piece);
    Py_DECREF(pieces);
    return NULL;
}

/* ------------------------------------------------------------------------------------------------ building */

static const char *const FORMS[] = {"es", "'s", "s", ""}; /* match.py's _FORMS ("\x01" never meets a token here) */

/* A distinct name word of a problem's keys: its code points in the build's arena */
typedef struct {
    uint64_t hash;
    Py_ssize_t start, length;
    int keys;     /* how many keys hold it */
    int last_key; /* the last key counted */
    int id;       /* its id (- NAME_WORDS) when informative, else -1 */
} Name;

typedef struct {
    Py_UCS4 *arena;
    Name *names;
    int *slots; /* hash table of names: -1 empty */
    size_t mask;
    Py_ssize_t count;
} Names;

static const Names *sorting; /* compare_names' names (qsort has no context argument) */

static int compare_names(const void *a, const void *b) { /* Python's str order: code points, then length */
    const Name *x = &sorting->names[*(const int *)a], *y = &sorting->names[*(const int *)b];
    const Py_UCS4 *p = sorting->arena + x->start, *q = sorting->arena + y->start;
    Py_ssize_t n = x->length < y->length ? x->length : y->length;
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
    return (x->length > y->length) - (x->length < y->length);
}

/* The slot of the name at the arena's free end (length code points), added when new. */
static int name_slot(Names *names, Py_ssize_t free_at, Py_ssize_t length) {
    const Py_UCS4 *key = names->arena + free_at;
    uint64_t h = HASH_START;
    for (Py_ssize_t i = 0; i < length; i++) h = HASH_STEP(h, key[i]);
    for (size_t i = (size_t)h & names->mask;; i = (i + 1) & names->mask) {
        int slot = names->slots[i];
        if (slot < 0) {
            names->slots[i] = (int)names->count;
            names->names[names->count] = (Name){h, free_at, length, 0, -1, -1};
            return (int)names->count++;
        }
        const Name *name = &names->names[slot];
        if (name->hash == h && name->length == length &&
            memcmp(names->arena + name->start, key, length * sizeof(Py_UCS4)) == 0)
            return slot;
    }
}

/* A problem's compiled unit index from its distinct unit texts, folded: match.py's unit_content of each (name words:
 * the tokens but function words, _EVENTS' tokens and numbers, stemmed; (year, month or None) dates) and NameTables of
 * them (the same ids, idf weights, half weights and forms). NULL with an exception set on failure. */
static Index *index_of(PyObject *texts, double name_share) {
    Py_ssize_t n = PyTuple_GET_SIZE(texts), total = 0;
    for (Py_ssize_t k = 0; k < n; k++) total += PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(texts, k));
    Py_ssize_t most = total / 2 + 2; /* tokens: each but the last is followed by a character outside it */
    size_t size = 8;
    while (size < (size_t)most * 2) size <<= 1;
    Names names = {PyMem_Malloc((total + 1) * sizeof(Py_UCS4)), PyMem_Malloc(most * sizeof(Name)),
                   PyMem_Malloc(size * sizeof(int)), size - 1, 0};
    int *key_names = PyMem_Malloc(most * sizeof(int)), *informative = PyMem_Malloc(most * sizeof(int));
    Py_ssize_t *key_start = PyMem_Malloc((n + most + 1) * sizeof(Py_ssize_t)); /* later: the postings' fill */
    DateEntry *found_dates = PyMem_Malloc(most * sizeof(DateEntry));
    Index *x = PyMem_Calloc(1, sizeof(Index));
    if (!names.arena || !names.names || !names.slots || !key_names || !informative || !key_start || !found_dates ||
        !x) {
        PyErr_NoMemory();
        goto error;
    }
    memset(names.slots, 0xff, size * sizeof(int));
    /* each key's distinct name words and its dates, as unit_content */
    Py_ssize_t used = 0, listed = 0, date_count = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *text = PyTuple_GET_ITEM(texts, k);
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t length = PyUnicode_GET_LENGTH(text), i = 0, token = 0, month_at = -MONTH_REACH - 1;
        int month = NO_MONTH;
        key_start[k] = listed;
        while (i < length) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (!is_word_char(c)) {
                if (ends_sentence(c, kind, data, i, length)) token++; /* a separator: a token of no date */
                i++;
                continue;
            }
            Py_ssize_t start = i;
            int all_digits;
            uint64_t h;
            i = word_end(kind, data, start, length, &h, &all_digits);
            int event = base_event(kind, data, start, i, h);
            if (event == 0 && !all_digits && !table_get(&function_words, kind, data, start, i, h)) {
                Py_ssize_t end = stem_end(kind, data, start, i); /* a name word, stemmed */
                for (Py_ssize_t t = start; t < end; t++) names.arena[used + t - start] = PyUnicode_READ(kind, data, t);
                Py_ssize_t before = names.count;
                int slot = name_slot(&names, used, end - start);
                if (names.count > before) used += end - start;
                Name *name = &names.names[slot];
                if (name->last_key != (int)k) {
                    name->last_key = (int)k;
                    name->keys++;
                    key_names[listed++] = slot;
                }
            } else if (event >= 1 && event <= 12) {
                month = event;
                month_at = token;
            } else if (event >= FIRST_YEAR && event <= LAST_YEAR) {
                found_dates[date_count++] =
                    (DateEntry){event, token - month_at <= MONTH_REACH ? month : NO_MONTH, (int)k};
                month = NO_MONTH;
            }
            token++;
        }
    }
    key_start[n] = listed;
    /* the informative words (held by fewer than all keys) in str order: their ids */
    Py_ssize_t m = 0;
    for (Py_ssize_t slot = 0; slot < names.count; slot++)
        if (names.names[slot].keys < n) informative[m++] = (int)slot;
    sorting = &names;
    qsort(informative, m, sizeof(int), compare_names);
    x->keys = n;
    x->words = m;
    x->word_start = PyMem_Malloc((n + 1) * sizeof(Py_ssize_t));
    x->word_ids = PyMem_Malloc((listed + 1) * sizeof(int));
    x->halves = PyMem_Malloc((n + 1) * sizeof(double));
    x->weights = PyMem_Malloc((m + 1) * sizeof(double));
    x->single = PyMem_Malloc(m + 1);
    x->posting_start = PyMem_Calloc(m + 2, sizeof(Py_ssize_t));
    x->postings = PyMem_Malloc((listed + 1) * sizeof(int));
    x->weight_sum = PyMem_Calloc(n + 1, sizeof(double));
    x->stamp = PyMem_Calloc(n + 1, sizeof(int));
    x->first_at = PyMem_Malloc((n + 1) * sizeof(int));
    if (!x->word_start || !x->word_ids || !x->halves || !x->weights || !x->single || !x->posting_start ||
        !x->postings || !x->weight_sum || !x->stamp || !x->first_at) {
        PyErr_NoMemory();
        goto error;
    }
    Py_ssize_t points = 0;
    for (Py_ssize_t w = 0; w < m; w++) {
        Name *name = &names.names[informative[w]];
        name->id = (int)w;
        x->weights[w] = log((double)n / (double)name->keys);
        x->single[w] = name->keys == 1;
        points += name->length + 2;
    }
    /* the forms of each word: later forms over earlier ones, as dict.update */
    if (table_init(&x->forms, 4 * m, 4 * points) < 0) goto error;
    for (size_t f = 0; f < sizeof(FORMS) / sizeof(FORMS[0]); f++) {
        Py_ssize_t suffix = (Py_ssize_t)strlen(FORMS[f]);
        for (Py_ssize_t w = 0; w < m; w++) {
            const Name *name = &names.names[informative[w]];
            Py_UCS4 *to = x->forms.arena + x->forms.used;
            memcpy(to, names.arena + name->start, name->length * sizeof(Py_UCS4));
            for (Py_ssize_t c = 0; c < suffix; c++) to[name->length + c] = (Py_UCS4)FORMS[f][c];
            table_put(&x->forms, name->length + suffix, NAME_WORDS + (int)w);
        }
    }
    /* each key's ids (ascending) and half weight: the weights summed in ascending id order; postings */
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t start = at;
        x->word_start[k] = at;
        for (Py_ssize_t i = key_start[k]; i < key_start[k + 1]; i++) {
            int id = names.names[key_names[i]].id;
            if (id < 0) continue; /* a word every key holds */
            x->word_ids[at++] = id;
            x->posting_start[id + 1]++;
        }
        qsort(x->word_ids + start, at - start, sizeof(int), compare_ints);
        double sum = 0.0;
        for (Py_ssize_t i = start; i < at; i++) sum += x->weights[x->word_ids[i]];
        x->halves[k] = name_share * sum;
    }
    x->word_start[n] = at;
    for (Py_ssize_t w = 0; w < m; w++) x->posting_start[w + 1] += x->posting_start[w];
    Py_ssize_t *fill = (Py_ssize_t *)key_start; /* reused: each word's next posting */
    memcpy(fill, x->posting_start, (m + 1) * sizeof(Py_ssize_t));
    for (Py_ssize_t k = 0; k < n; k++) /* keys in order: each word's postings ascend */
        for (Py_ssize_t i = x->word_start[k]; i < x->word_start[k + 1]; i++) x->postings[fill[x->word_ids[i]]++] = (int)k;
    /* dates: each key's distinct ones, sorted by year */
    qsort(found_dates, date_count, sizeof(DateEntry), compare_date_entries);
    x->dates = PyMem_Malloc((date_count + 1) * sizeof(DateEntry));
    if (x->dates == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < date_count; i++)
        if (x->date_count == 0 || compare_date_entries(&x->dates[x->date_count - 1], &found_dates[i]) != 0)
            x->dates[x->date_count++] = found_dates[i];
    x->dated = x->date_count > 0;
    PyMem_Free(names.arena);
    PyMem_Free(names.names);
    PyMem_Free(names.slots);
    PyMem_Free(key_names);
    PyMem_Free(informative);
    PyMem_Free(key_start);
    PyMem_Free(found_dates);
    return x;
error:
    PyMem_Free(names.arena);
    PyMem_Free(names.names);
    PyMem_Free(names.slots);
    PyMem_Free(key_names);
    PyMem_Free(informative);
    PyMem_Free(key_start);
    PyMem_Free(found_dates);
    if (x != NULL) index_free(x);
    return NULL;
}

/* " ".join(text.split()): the words of text between single spaces; a new reference */
static PyObject *single_spaced(PyObject *text) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i, length = 0;
    int plain = n > 0;
    for (i = 0; i < n && plain; i++) { /* no space at either end, no two together, no other space character */
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == ' ') plain = i > 0 && i + 1 < n && PyUnicode_READ(kind, data, i - 1) != ' ';
        else plain = !is_space(c);
    }
    if (plain || n == 0) {
        Py_INCREF(text);
        return text;
    }
    Py_UCS4 *out = PyMem_Malloc(n * sizeof(Py_UCS4));
    if (out == NULL) return PyErr_NoMemory();
    for (i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (is_space(c)) continue;
        if (length > 0 && is_space(PyUnicode_READ(kind, data, i - 1))) out[length++] = ' ';
        out[length++] = c;
    }
    PyObject *spaced = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, length);
    PyMem_Free(out);
    return spaced;
}

/* build(units, name_share, fold_chars) -> (keys, indices, dated, index): match.py's unit_index of a problem's units:
 * the distinct whitespace-normalised texts in first-seen order, the unit indices of each, and the compiled index of
 * the texts folded (fold_text). */
static PyObject *judge_build(PyObject *self, PyObject *args) {
    PyObject *units, *fold_chars, *seen = NULL, *keys = NULL, *groups = NULL, *folded = NULL, *indices = NULL;
    double name_share;
    if (!PyArg_ParseTuple(args, "O!dO", &PyTuple_Type, &units, &name_share, &fold_chars)) return NULL;
    if (base.slots == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "build: configure() was not called");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(units);
    if ((seen = PyDict_New()) == NULL || (keys = PyList_New(0)) == NULL || (groups = PyList_New(0)) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *unit = PyTuple_GET_ITEM(units, i), *index = PyLong_FromSsize_t(i), *key;
        if (index == NULL) goto error;
        if (!PyUnicode_Check(unit)) {
            Py_DECREF(index);
            PyErr_SetString(PyExc_TypeError, "build: the units are str");
            goto error;
        }
        if ((key = single_spaced(unit)) == NULL) {
            Py_DECREF(index);
            goto error;
        }
        PyObject *at = PyDict_GetItemWithError(seen, key), *group;
        int failed;
        if (at != NULL) {
            failed = PyList_Append(PyList_GET_ITEM(groups, PyLong_AsSsize_t(at)), index);
        } else if (PyErr_Occurred()) {
            failed = 1;
        } else {
            PyObject *position = PyLong_FromSsize_t(PyList_GET_SIZE(keys));
            group = PyList_New(1);
            failed = position == NULL || group == NULL || PyDict_SetItem(seen, key, position) < 0 ||
                     PyList_Append(keys, key) < 0 || PyList_Append(groups, group) < 0;
            if (!failed) {
                PyList_SET_ITEM(group, 0, index);
                Py_INCREF(index);
            }
            Py_XDECREF(position);
            Py_XDECREF(group);
        }
        Py_DECREF(key);
        Py_DECREF(index);
        if (failed) goto error;
    }
    Py_ssize_t count = PyList_GET_SIZE(keys);
    if ((folded = PyTuple_New(count)) == NULL || (indices = PyTuple_New(count)) == NULL) goto error;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *fold = fold_text(PyList_GET_ITEM(keys, k), fold_chars);
        PyObject *group = PyList_AsTuple(PyList_GET_ITEM(groups, k));
        if (fold == NULL || group == NULL) {
            Py_XDECREF(fold);
            Py_XDECREF(group);
            goto error;
        }
        PyTuple_SET_ITEM(folded, k, fold);
        PyTuple_SET_ITEM(indices, k, group);
    }
    Index *x = index_of(folded, name_share);
    if (x == NULL) goto error;
    PyObject *capsule = PyCapsule_New(x, "tracekd_judge.Index", index_capsule_free);
    if (capsule == NULL) {
        index_free(x);
        goto error;
    }
    PyObject *result = Py_BuildValue("(NNON)", PyList_AsTuple(keys), indices, x->dated ? Py_True : Py_False, capsule);
    indices = NULL; /* the tuple holds it */
    Py_DECREF(seen);
    Py_DECREF(keys);
    Py_DECREF(groups);
    Py_DECREF(folded);
    return result;
error:
    Py_XDECREF(seen);
    Py_XDECREF(keys);
    Py_XDECREF(groups);
    Py_XDECREF(folded);
    Py_XDECREF(indices);
    return NULL;
}

/* sentences(text): match.py's _SEPARATOR.split(text), the text cut at each sentence separator. */
static PyObject *judge_sentences(PyObject *self, PyObject *arg) {
    PyObject *text;
    if (!PyArg_Parse(arg, "U:sentences", &text)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0;
    PyObject *sentences = PyList_New(0);
    if (sentences == NULL) return NULL;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i < n) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (!ends_sentence(c, kind, data, i, n)) continue;
        }
        PyObject *sentence = PyUnicode_Substring(text, start, i);
        if (sentence == NULL || PyList_Append(sentences, sentence) < 0) {
            Py_XDECREF(sentence);
            Py_DECREF(sentences);
            return NULL;
        }
        Py_DECREF(sentence);
        start = i + 1;
    }
    return sentences;
}

/* words(folded) -> frozenset: match.py's UnitIndex.known of folded text: every word token (runs of [^\W_] with a
 * following "'s") and its stem (match.py's stem). */
static PyObject *judge_words(PyObject *self, PyObject *arg) {
    PyObject *text;
    if (!PyArg_Parse(arg, "U:words", &text)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    PyObject *words = PySet_New(NULL);
    if (words == NULL) return NULL;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!is_word_char(c)) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        int all_digits;
        uint64_t h;
        i = word_end(kind, data, start, n, &h, &all_digits);
        Py_ssize_t end = stem_end(kind, data, start, i);
        PyObject *word = PyUnicode_Substring(text, start, i);
        PyObject *stem = end == i ? (Py_XINCREF(word), word) : PyUnicode_Substring(text, start, end);
        int failed = word == NULL || stem == NULL || PySet_Add(words, word) < 0 || PySet_Add(words, stem) < 0;
        Py_XDECREF(word);
        Py_XDECREF(stem);
        if (failed) {
            Py_DECREF(words);
            return NULL;
        }
    }
    PyObject *frozen = PyFrozenSet_New(words);
    Py_DECREF(words);
    return frozen;
}

/* fold(text, fold_chars): match.py's fold (fold_text). */
static PyObject *judge_fold(PyObject *self, PyObject *args) {
    PyObject *text, *fold_chars;
    if (!PyArg_ParseTuple(args, "UO", &text, &fold_chars)) return NULL;
    return fold_text(text, fold_chars);
}

/* configure(events, function_words): the base token events and the words that are never a name. */
static PyObject *judge_configure(PyObject *self, PyObject *args) {
    PyObject *events, *words, *word_events;
    if (!PyArg_ParseTuple(args, "O!O", &PyDict_Type, &events, &words)) return NULL;
    if ((word_events = PyDict_New()) == NULL) return NULL;
    PyObject *iterator = PyObject_GetIter(words), *word;
    if (iterator == NULL) {
        Py_DECREF(word_events);
        return NULL;
    }
    while ((word = PyIter_Next(iterator)) != NULL) {
        int failed = PyDict_SetItem(word_events, word, Py_True);
        Py_DECREF(word);
        if (failed < 0) break;
    }
    Py_DECREF(iterator);
    /* the years are read as numbers (base_event): each four-digit key must be a year of the range, as its number */
    PyObject *others = PyErr_Occurred() ? NULL : PyDict_New(), *key, *value;
    Py_ssize_t pos = 0, years = 0;
    while (others != NULL && PyDict_Next(events, &pos, &key, &value)) {
        long event = PyLong_AsLong(value);
        int number = PyUnicode_Check(key) && PyUnicode_GET_LENGTH(key) == 4
                         ? four_digits(PyUnicode_KIND(key), PyUnicode_DATA(key), 0) : -1;
        if (number >= FIRST_YEAR && number <= LAST_YEAR && event == number) {
            years++;
            continue;
        }
        if (number >= 0) {
            PyErr_Format(PyExc_ValueError, "configure: the event of %R is not its year", key);
            Py_CLEAR(others);
        } else if (PyDict_SetItem(others, key, value) < 0) {
            Py_CLEAR(others);
        }
    }
    if (others != NULL && years != LAST_YEAR - FIRST_YEAR + 1) {
        PyErr_SetString(PyExc_ValueError, "configure: the events must hold every year of the range");
        Py_CLEAR(others);
    }
    Table event_table, word_table;
    if (others == NULL || table_from_dict(&event_table, others) < 0) {
        Py_XDECREF(others);
        Py_DECREF(word_events);
        return NULL;
    }
    Py_DECREF(others);
    if (table_from_dict(&word_table, word_events) < 0) {
        table_free(&event_table);
        Py_DECREF(word_events);
        return NULL;
    }
    Py_DECREF(word_events);
    table_free(&base);
    table_free(&function_words);
    base = event_table;
    function_words = word_table;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", judge_configure, METH_VARARGS,
     "configure(events, function_words): the base token events (match.py's _EVENTS) and FUNCTION_WORDS."},
    {"build", judge_build, METH_VARARGS,
     "build(units, name_share, fold_chars) -> (keys, indices, dated, index): match.py's unit_index, compiled."},
    {"judge", judge_text, METH_VARARGS, "judge(index, folded) -> (cited, suspect), as match.py's _judge_text."},
    {"sentences", judge_sentences, METH_O, "sentences(text): _SEPARATOR.split(text)."},
    {"words", judge_words, METH_O, "words(folded) -> frozenset of its words and their stems (UnitIndex.known)."},
    {"fold", judge_fold, METH_VARARGS,
     "fold(text, fold_chars): ASCII letters lower-cased, each run of other characters as fold_chars(run)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_judge",
                                    "The free-form retrieval-step judge, compiled (see match.py).", -1, methods};

PyMODINIT_FUNC PyInit__judge(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "SENTENCE_END", SENTENCE_END) < 0 ||
        PyModule_AddIntConstant(m, "CONJUNCTION", CONJUNCTION) < 0 ||
        PyModule_AddIntConstant(m, "NAME_WORDS", NAME_WORDS) < 0 ||
        PyModule_AddIntConstant(m, "MONTH_REACH", MONTH_REACH) < 0 ||
        PyModule_AddObject(m, "TIE", PyFloat_FromDouble(TIE)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
