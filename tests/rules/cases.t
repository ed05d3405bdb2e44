# Table of rules-language cases, run by tests/test_ruleset.c.
# One case per line:  input;ok   or   input;fail;expected message substring
# "\n" in the input is a newline, "\\" a backslash.  Blank lines and lines
# starting with "#" are skipped.  The test procroot has a host range of
# 32768-60999.

# --- empty and comments
;ok
# only a comment;ok
   \n\n  # blank and comment lines\n;ok

# --- dynamic-range
dynamic-range iana;ok
dynamic-range linux;ok
dynamic-range windows;ok
dynamic-range freebsd;ok
dynamic-range macos;ok
dynamic-range solaris;ok
dynamic-range host;ok
dynamic-range 50000-60000;ok
dynamic-range 50000;ok
dynamic-range 0-65535;ok
dynamic-range 60000-50000;fail;low end above high end
dynamic-range 70000;fail;port 70000 out of range (0-65535)
dynamic-range linuks;fail;did you mean "linux"
dynamic-range bogus;fail;expected iana, linux, windows
dynamic-range;fail;expected iana
dynamic-range "iana";fail;expected iana
dynamic-range iana linux;fail;expected end of line
dynamic-range iana\ndynamic-range linux;fail;duplicate dynamic-range (first set at
dynamic-range iana\ndynamic-range iana;fail;duplicate dynamic-range

# --- local
local 192.0.2.0/24;ok
local 192.0.2.0/24, 2001:db8::/32;ok
local { 192.0.2.0/24, 2001:db8::/32 };ok
local { 192.0.2.0/24 2001:db8::/32 };ok
local 192.0.2.1;ok
local ::1;ok
local 192.0.2.0/24\nlocal 198.51.100.0/24;ok
local;fail;local needs an address
local 192.0.2.0/33;fail;prefix length
local 192.0.2.1/24;fail;192.0.2.1/24
local 300.1.2.3;fail;invalid
local 2001:db8::/129;fail;prefix length
local 192.0.2.0/24,;fail;unexpected end of file, expected an address or prefix
local { };fail;empty list
local { 192.0.2.0/24;fail;missing "}"
local { 192.0.2.0/24, };fail;after ","
local any;fail;expected an address or prefix
local 192.0.2.0/24 198.51.100.0/24;fail;expected "," or end of line

# --- unexpected / default
unexpected drop;ok
unexpected drop log;ok
unexpected reject log;ok
unexpected pass;ok
default pass;ok
default drop log;ok
default reject;ok
default;fail;expected an action
default allow;fail;expected an action (pass, drop or reject)
default pas;fail;did you mean "pass"
default pass logg;fail;did you mean "log"
unexpected drop log now;fail;expected log or end of line
default pass\ndefault drop;fail;duplicate "default" (first set at
unexpected drop\nunexpected reject;fail;duplicate "unexpected"

# --- invalid
invalid drop;ok
invalid drop log;ok
invalid reject log;ok
invalid pass;ok
invalid;fail;expected an action
invalid accept;fail;expected an action (pass, drop or reject)
invalid drop log always;fail;expected log or end of line
invalid pass\ninvalid drop;fail;duplicate "invalid" (first set at
invalid drop tcp;fail;expected log or end of line
invalids drop;fail;did you mean "invalid"

# --- loopback
loopback inbound;ok
loopback local;ok
loopback;fail;expected inbound or local
loopback inbund;fail;did you mean "inbound"
loopback inbound log;fail;expected end of line
loopback inbound\nloopback local;fail;duplicate "loopback" (first set at
expect tcp port 60000 program inbound;ok

# --- explicit rules
pass;ok
drop log;ok
reject tcp;ok
pass { tcp, udp };ok
pass { tcp udp icmp };ok
pass icmp;ok
pass icmp6 from 2001:db8::/32;ok
drop tcp to port 80;ok
drop tcp to port 0;ok
drop tcp to port 65535;ok
drop tcp to port 8000-8080;ok
drop tcp to port 8080-8080;ok
drop tcp to port { 22, 80, 443, 8000-8080 };ok
drop udp from port 53;ok
pass udp from any port 53;ok
drop log tcp to port 60314;ok
reject tcp from 203.0.113.0/24 to class dynamic new;ok
pass to class system;ok
pass from class user to class dynamic;ok
pass tcp from { 192.0.2.0/24, 2001:db8::/32 } port 1024-65535 to any port 22;ok
pass tcp from any to any;ok
pass tcp to 192.0.2.1 port 25;ok
pass sctp to port 38412;ok
pass dccp to port 5004;ok
pass udplite to port 5004;ok
pass new;ok
drop tcp new;ok
pass tcp to port 80 new;ok
drop tcp to port 70000;fail;port 70000 out of range (0-65535)
drop tcp to port 90-80;fail;low end above high end
drop tcp to port http;fail;invalid port
drop tcp to port -5;fail;port
drop tcp to port;fail;expected a port or range
drop tcp to port { 80, 70000 };fail;port 70000 out of range
drop tcp to port { };fail;empty list
drop tcp to port { 80;fail;missing "}"
drop icmp to port 80;fail;icmp has no ports
drop icmp6 from port 80;fail;icmp6 has no ports
drop { tcp, icmp } to port 80;fail;icmp has no ports
drop icmp to class dynamic;fail;icmp has no ports
drop tcp to class ephemeral;fail;expected a port class (system, user or dynamic)
drop tcp to class dynamc;fail;did you mean "dynamic"
drop tcp to class;fail;expected a port class
drop tpc to port 80;fail;did you mean "tcp"
drop foo;fail;expected a protocol, from, to, filter, new or end of line
drop { tcp, foo };fail;expected a protocol
drop { };fail;empty list
drop tcp form 192.0.2.1;fail;did you mean "from"
drop tcp from;fail;missing address
drop tcp from 192.0.2.0/33;fail;prefix length
drop tcp from 192.0.2.300;fail;invalid
drop tcp from 192.0.2.1/24;fail;192.0.2.1/24
drop tcp from { 192.0.2.1, bogus };fail;bogus
drop tcp to port 80 from 192.0.2.1;fail;"from" must come before "to"
drop tcp from 192.0.2.1 from 192.0.2.2;fail;duplicate "from"
drop tcp to port 1 to port 2;fail;duplicate "to"
drop tcp new to port 80;fail;expected end of line ("new" comes last)
drop tcp to port 80 new new;fail;"new" comes last
drop tcp to port 80 log;fail;expected from, to, filter, new or end of line
drop tcp to port 80 class user;fail;expected from, to, filter, new or end of line
drop tcp to any port 80 port 81;fail;expected from, to, filter, new or end of line
drop log log;fail;expected a protocol, from, to, filter, new or end of line
drop "tcp";fail;expected a protocol, from, to, filter, new or end of line
pass tcp to port 80 # a comment;ok
pass tcp to port 80# no space before the comment;ok

# --- filter rules
pass filter "tcp and dst port 8443 and src net 198.51.100.0/24";ok
drop log filter "udp port 53";ok
drop filter "ip6 and tcp";ok
drop filter "icmp" new;ok
drop filter "";ok
drop filter "tcp and dst port";fail;filter: 
drop filter "tcp and and";fail;syntax error
drop filter "port 99999";fail;filter: 
drop filter "ip and (tcp or";fail;filter: 
drop filter tcp;fail;expected a quoted pcap-filter expression
drop filter;fail;expected a quoted pcap-filter expression
drop filter "tcp" "udp";fail;expected new or end of line
drop filter "tcp;fail;unterminated string
drop filter "tcp \q";fail;unknown escape \q
drop tcp filter "tcp";ok
drop tcp to port 8443 filter "src net 198.51.100.0/24";ok
drop log { tcp, udp } from 192.0.2.0/24 to port 53 filter "ip[8] < 5" new;ok
drop filter "tcp" to port 80;fail;"from" and "to" must come before "filter"
drop filter "tcp" filter "udp";fail;duplicate "filter"
drop tcp filter "tcp" log;fail;expected new or end of line

# --- expect
expect tcp;ok
expect udp port 60000-61000 program mosh-server;ok
expect tcp port 55000 from 198.51.100.0/24;ok
expect tcp port 55000 to 192.0.2.1;ok
expect { tcp, udp } port 5060 user asterisk;ok
expect tcp port 60000 program "my server" user 1000;ok
expect tcp program sshd port 2222;ok
expect sctp port { 36412, 38412 };ok
expect tcp port 55000 from { 198.51.100.0/24, 2001:db8::/32 };ok
expect;fail;expect needs a protocol
expect icmp;fail;expect with icmp
expect { tcp, icmp6 } port 5;fail;expect with icmp6
expect port 80;fail;expected a protocol
expect tcp port 70000;fail;port 70000 out of range
expect tcp port 9-1;fail;low end above high end
expect tcp port 1 port 2;fail;duplicate "port"
expect tcp program a program b;fail;duplicate "program"
expect tcp user;fail;expected a user name
expect tcp program;fail;expected a program name
expect tcp program "";fail;expected a program name
expect tcp from 1.2.3.4/40;fail;prefix length
expect tcp port;fail;after "port"
expect tcp prot 80;fail;did you mean "port"
expect tcp port 80 new;fail;expected port, from, to, program, user or end of line

# --- include (file cases are in the C test)
include;fail;expected a quoted file name
include local.rules;fail;expected a quoted file name
include "";fail;expected a quoted file name
include "nonexistent-ruleset-file.rules";fail;cannot open include "nonexistent-ruleset-file.rules": No such file or directory
include "a" "b";fail;expected end of line

# --- statements and tokens
pas tcp;fail;unknown keyword "pas" (did you mean "pass"?)
allow tcp;fail;unknown keyword "allow", expected pass, drop, reject, expect
dynamic_range iana;fail;did you mean "dynamic-range"
Pass tcp;fail;unknown keyword "Pass"
from 192.0.2.1;fail;"from" cannot start a statement
new;fail;"new" cannot start a statement
{ tcp };fail;expected a statement
"pass";fail;expected a statement
, ;fail;expected a statement
pass } ;fail;expected a protocol, from, to, filter, new or end of line
pass\x01;fail;invalid character 0x01
pass "unterminated;fail;unterminated string
pass\r\ndrop\r\n;ok
# several statements, errors on two lines: both are reported
pass\nbogus\ndrop tcp to port 70000\npass;fail;port 70000 out of range
