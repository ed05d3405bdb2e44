/*
 * class: the IANA port classes of RFC 6335 section 6.  Fixed, not
 * configurable: system 0-1023, user 1024-49151, dynamic 49152-65535.
 */
#ifndef PORTCLASS_CLASS_H
#define PORTCLASS_CLASS_H

#include <stdint.h>

enum port_class {
	CLASS_NONE = 0, /* the packet has no ports */
	CLASS_SYSTEM,
	CLASS_USER,
	CLASS_DYNAMIC,
	CLASS_COUNT
};

#define CLASS_SYSTEM_LAST 1023
#define CLASS_USER_LAST 49151

static inline enum port_class class_of(uint16_t port)
{
	if (port <= CLASS_SYSTEM_LAST)
		return CLASS_SYSTEM;
	if (port <= CLASS_USER_LAST)
		return CLASS_USER;
	return CLASS_DYNAMIC;
}

/* "none", "system", "user", "dynamic". Never NULL. */
const char *class_name(enum port_class c);
/* Inverse for "system", "user", "dynamic"; -1 for anything else. */
int class_lookup(const char *name);

#endif
