// libedit's readline-compatible API. <stdio.h> first: readline.h uses FILE
// without including it. Everything lmlab calls (readline, add_history,
// read/write_history, the completion hooks) is callable from Swift as is.
#include <stdio.h>
#include <editline/readline.h>
