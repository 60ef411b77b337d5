# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by machined-lib.sh and bench/lib.sh: the configuration of a private dbus-daemon
# that behaves like the system bus (deny by default) with the project's policy for machined,
# so that the tests and the benches run against the same rules.

# write_bus_conf FILE DIR [open]: a bus listening on DIR/bus, activating from DIR/services.
# With "open", no project policy for our name: proves machined checks the caller itself.
write_bus_conf() {
    local include="<include>$SOURCE_ROOT/units/org.nspawnctl.machined1.conf</include>" open=""
    if [ "${3:-policy}" = open ]; then
        include=""
        open='<allow send_destination="org.nspawnctl.machined1"/><allow own="org.nspawnctl.machined1"/>'
        open="$open"'<allow send_destination="org.freedesktop.machine1"/><allow own="org.freedesktop.machine1"/>'
    fi
    mkdir -p "$2/services"
    cat >"$1" <<EOT
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$2/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$2/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    $open
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  $include
</busconfig>
EOT
}
