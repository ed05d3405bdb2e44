/*
 * class: names of the IANA port classes (RFC 6335 section 6).
 */
#include <string.h>

#include "class.h"

static const char *const class_names[CLASS_COUNT] = {
	[CLASS_NONE] = "none",
	[CLASS_SYSTEM] = "system",
	[CLASS_USER] = "user",
	[CLASS_DYNAMIC] = "dynamic",
};

const char *class_name(enum port_class c)
{
	if ((unsigned)c >= CLASS_COUNT)
		return "none";
	return class_names[c];
}

int class_lookup(const char *name)
{
	/* "none" is an output value only: a rule cannot ask for it. */
	for (int c = CLASS_SYSTEM; c < CLASS_COUNT; c++)
		if (name && strcmp(name, class_names[c]) == 0)
			return c;
	return -1;
}
