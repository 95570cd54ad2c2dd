/* textid.c — ids as text: 16 hex digits are taken literally, other strings are hashed. */
#include "textid.h"

#include "la.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint64_t textid_parse(const char *s, size_t len)
{
    if (!s)
        return 0;
    if (len == 16) {
        uint64_t v = 0;
        size_t i;
        for (i = 0; i < 16; i++) {
            int h = hexval(s[i]);
            if (h < 0)
                break;
            v = v << 4 | (uint64_t)h;
        }
        if (i == 16)
            return v;
    }
    return la_hash_id(s, len);
}

void textid_format(uint64_t v, char out[16])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = digits[v & 15];
}
