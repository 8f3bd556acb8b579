# C-level interface of the header index, shared with parser.pyx and chunked.pyx.

cdef struct Field:
    # Offsets into the Headers' raw bytes (while parsing: into the parser's buffer, relative to
    # the start of the head). 32 bits: a head is bounded by the parser's limits.
    unsigned int name_start
    unsigned int name_len
    unsigned int value_start
    unsigned int value_len
    int known                 # 1-based index into WELL_KNOWN, 0 for any other name

cdef enum:
    # ids of the names the parser itself needs (position in WELL_KNOWN + 1)
    H_HOST = 1
    H_CONTENT_LENGTH = 2
    H_TRANSFER_ENCODING = 3
    H_CONNECTION = 4
    H_CONTENT_TYPE = 5
    H_EXPECT = 6
    H_UPGRADE = 7

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* RFC 9110 §5.6.2 tchar, RFC 9110 §5.5 field-value bytes (VCHAR, obs-text, SP, HTAB). */
    static const unsigned char fh_tchar[256] = {
        ['!']=1, ['#']=1, ['$']=1, ['%']=1, ['&']=1, ['\\'']=1, ['*']=1, ['+']=1, ['-']=1,
        ['.']=1, ['^']=1, ['_']=1, ['`']=1, ['|']=1, ['~']=1,
        ['0']=1,['1']=1,['2']=1,['3']=1,['4']=1,['5']=1,['6']=1,['7']=1,['8']=1,['9']=1,
        ['A']=1,['B']=1,['C']=1,['D']=1,['E']=1,['F']=1,['G']=1,['H']=1,['I']=1,['J']=1,['K']=1,
        ['L']=1,['M']=1,['N']=1,['O']=1,['P']=1,['Q']=1,['R']=1,['S']=1,['T']=1,['U']=1,['V']=1,
        ['W']=1,['X']=1,['Y']=1,['Z']=1,
        ['a']=1,['b']=1,['c']=1,['d']=1,['e']=1,['f']=1,['g']=1,['h']=1,['i']=1,['j']=1,['k']=1,
        ['l']=1,['m']=1,['n']=1,['o']=1,['p']=1,['q']=1,['r']=1,['s']=1,['t']=1,['u']=1,['v']=1,
        ['w']=1,['x']=1,['y']=1,['z']=1,
    };
    static inline int fh_value_ok(unsigned char c) { return c >= 0x20 ? c != 0x7f : c == 0x09; }
    static inline unsigned char fh_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c | 0x20 : c; }
    /* SWAR (8 bytes at a time): does this word hold a byte < n (n <= 128), or equal to c?
       Exact "any" tests; a hit only sends the word to the per-byte check, so they never decide. */
    #define FH_ONES 0x0101010101010101ULL
    #define FH_HIGH 0x8080808080808080ULL
    static inline uint64_t fh_hasless(uint64_t x, unsigned n) { return (x - FH_ONES * n) & ~x & FH_HIGH; }
    static inline uint64_t fh_haseq(uint64_t x, unsigned c) { uint64_t y = x ^ (FH_ONES * c); return (y - FH_ONES) & ~y & FH_HIGH; }
    /* The n bytes p[0:n] (n < 8) gathered into one word, every byte of p[0:n] in it at least
       once (overlapping loads: PERF, no loop over the tail of a short field), the rest of the
       word filled with `pad`. For a test of "any byte such that", which the duplicates do not
       change. */
    static inline uint64_t fh_gather(const unsigned char *p, Py_ssize_t n, uint64_t pad) {
        uint32_t lo, hi;
        if (n >= 4) {
            memcpy(&lo, p, 4); memcpy(&hi, p + n - 4, 4);
            return (uint64_t)lo | ((uint64_t)hi << 32);
        }
        if (n == 0) return pad;
        return (pad & ~0xFFFFFFULL) | (uint64_t)p[0] | ((uint64_t)p[n >> 1] << 8) | ((uint64_t)p[n - 1] << 16);
    }
    /* All of p[0:n] valid field-value bytes (VCHAR, obs-text, SP, HTAB; RFC 9110 §5.5)? The
       SWAR tests only send a word with a suspect byte to the per-byte check, which decides. */
    static inline int fh_values_ok(const unsigned char *p, Py_ssize_t n) {
        Py_ssize_t i = 0, k; uint64_t x;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, p + i, 8);
            if (fh_hasless(x, 0x20) | fh_haseq(x, 0x7f))
                for (k = 0; k < 8; k++) if (!fh_value_ok(p[i + k])) return 0;
        }
        if (i < n) {
            /* the tail: the last 8 bytes again (overlapping), or the short value gathered */
            if (n >= 8) memcpy(&x, p + n - 8, 8);
            else x = fh_gather(p, n, 0x4141414141414141ULL);
            if (fh_hasless(x, 0x20) | fh_haseq(x, 0x7f))
                for (k = i; k < n; k++) if (!fh_value_ok(p[k])) return 0;
        }
        return 1;
    }
    /* Does the tchar name a[0:n] equal the lower-case k[0:n], ignoring case? For tchar input,
       c | 0x20 equals a lower-case letter or "-" only when c is that letter in either case or
       that very byte, so one OR per 8 bytes replaces a per-byte lower-casing. The tail is
       compared as one overlapping word (n >= 4) or byte by byte (at most 3). */
    static inline int fh_tchar_caseeq(const unsigned char *a, const unsigned char *k, Py_ssize_t n) {
        Py_ssize_t i = 0; uint64_t x, y; uint32_t x4, y4;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8); memcpy(&y, k + i, 8);
            if ((x | 0x2020202020202020ULL) != y) return 0;
        }
        if (i == n) return 1;
        if (n >= 8) {
            memcpy(&x, a + n - 8, 8); memcpy(&y, k + n - 8, 8);
            return (x | 0x2020202020202020ULL) == y;
        }
        if (n >= 4) {
            memcpy(&x4, a, 4); memcpy(&y4, k, 4);
            if ((x4 | 0x20202020U) != y4) return 0;
            memcpy(&x4, a + n - 4, 4); memcpy(&y4, k + n - 4, 4);
            return (x4 | 0x20202020U) == y4;
        }
        for (; i < n; i++) if ((a[i] | 0x20) != k[i]) return 0;
        return 1;
    }
    static inline int fh_casecmp(const unsigned char *a, const unsigned char *b, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) if (fh_lower(a[i]) != fh_lower(b[i])) return 1;
        return 0;
    }
    """
    ctypedef unsigned long long uint64_t
    const unsigned char fh_tchar[256]
    bint fh_values_ok(const unsigned char* p, Py_ssize_t n) nogil
    uint64_t fh_hasless(uint64_t x, unsigned n) nogil
    uint64_t fh_haseq(uint64_t x, unsigned c) nogil
    bint fh_value_ok(unsigned char c) nogil
    unsigned char fh_lower(unsigned char c) nogil
    int fh_casecmp(const unsigned char* a, const unsigned char* b, Py_ssize_t n) nogil
    bint fh_tchar_caseeq(const unsigned char* a, const unsigned char* k, Py_ssize_t n) nogil


cdef enum:
    INLINE_FIELDS = 16

cdef class Headers:
    cdef bytes _raw
    cdef Field* _fields           # _inline, or a heap array for more than INLINE_FIELDS fields
    cdef Py_ssize_t _count
    cdef Field _inline[INLINE_FIELDS]

    cdef Py_ssize_t _find(self, object name, Py_ssize_t start) except -2


cdef Headers headers_new(bytes raw, const Field* fields, Py_ssize_t count, Py_ssize_t base)
cdef int parse_field(const unsigned char* buf, Py_ssize_t start, Py_ssize_t end, Field* out) except -1
cdef int known_id(const unsigned char* name, Py_ssize_t n) noexcept nogil
