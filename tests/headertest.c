/* headertest.c — la.h on its own: compiled as C99 with -pedantic and as C++11 (make check), so
 * the header needs nothing it does not include and stays valid in both languages. The code
 * touches each initializer macro and a few calls so that their expansions are compiled too. */
#include "la.h"

int main(void)
{
    la_options o = LA_OPTIONS_INIT;
    la_filter f = LA_FILTER_INIT;
    la_query q = LA_QUERY_INIT;
    la_db *db = NULL;
    int rc = la_open(&db, "headertest.la", LA_OPEN_READONLY, &o);
    la_close(db);
    (void)f;
    (void)q;
    return rc == LA_OK || la_version_number() != LA_VERSION_NUMBER;
}
