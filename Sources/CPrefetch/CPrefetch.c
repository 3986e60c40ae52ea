// Everything is in include/CPrefetch.h (one inline function); SwiftPM wants a source file.
#include "CPrefetch.h"
