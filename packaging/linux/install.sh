#!/bin/sh
# Per-user desktop integration for ModelDesk: a menu entry, the icon at every size,
# and the .mdesk file type, so a double-click on a project opens the app.
#
#   packaging/linux/install.sh [COMMAND]      install (COMMAND: how to start ModelDesk)
#   packaging/linux/install.sh --uninstall    take it all out again
#
# COMMAND defaults to the packaged app next to this checkout (dist/ModelDesk/ModelDesk)
# when it exists, else `modeldesk` on PATH (the wheel's console script). Files go to
# $XDG_DATA_HOME (~/.local/share); no root needed. The caches are refreshed with
# update-mime-database / update-desktop-database / gtk-update-icon-cache when present,
# and with xdg-utils installed, `xdg-mime default` makes ModelDesk the default for
# .mdesk files (a line in ~/.config/mimeapps.list, which --uninstall leaves: it names
# a .desktop file that is gone, which desktops ignore).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
MIME_TYPE=application/x-modeldesk-project
SIZES="16 24 32 48 64 128 256 512"
have() { command -v "$1" >/dev/null 2>&1; }

refresh() {
    if have update-mime-database; then update-mime-database "$DATA/mime" >/dev/null 2>&1 || true; fi
    if have update-desktop-database; then update-desktop-database "$DATA/applications" >/dev/null 2>&1 || true; fi
    if have gtk-update-icon-cache; then gtk-update-icon-cache -q -t "$DATA/icons/hicolor" >/dev/null 2>&1 || true; fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$DATA/applications/modeldesk.desktop" "$DATA/mime/packages/modeldesk-mime.xml"
    for size in $SIZES; do rm -f "$DATA/icons/hicolor/${size}x${size}/apps/modeldesk.png"; done
    rm -f "$DATA/icons/hicolor/scalable/apps/modeldesk.svg"
    refresh
    echo "ModelDesk's menu entry, icon and file type were removed from $DATA."
    exit 0
fi

if [ $# -ge 1 ]; then
    COMMAND=$1
elif [ -x "$ROOT/dist/ModelDesk/ModelDesk" ]; then
    COMMAND="$ROOT/dist/ModelDesk/ModelDesk"
elif have modeldesk; then
    COMMAND=$(command -v modeldesk)
else
    echo "No ModelDesk to point at: build dist/ModelDesk with \`make package\`, install the wheel" \
         "(pip install modeldesk-*.whl), or pass the command: $0 /path/to/ModelDesk" >&2
    exit 1
fi
case "$COMMAND" in
    *" "*) echo "The path to ModelDesk contains a space; move it or pass a path without one: $COMMAND" >&2; exit 2 ;;
esac

ICONS="$ROOT/resources/icons"
mkdir -p "$DATA/applications" "$DATA/mime/packages" "$DATA/icons/hicolor/scalable/apps"
for size in $SIZES; do
    mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
    cp "$ICONS/modeldesk-$size.png" "$DATA/icons/hicolor/${size}x${size}/apps/modeldesk.png"
done
cp "$ICONS/modeldesk.svg" "$DATA/icons/hicolor/scalable/apps/modeldesk.svg"
sed -e "s|^Exec=modeldesk |Exec=$COMMAND |" -e "s|^TryExec=modeldesk\$|TryExec=$COMMAND|" \
    "$HERE/modeldesk.desktop" > "$DATA/applications/modeldesk.desktop"
cp "$HERE/modeldesk-mime.xml" "$DATA/mime/packages/modeldesk-mime.xml"
refresh
if have xdg-mime; then xdg-mime default modeldesk.desktop "$MIME_TYPE" || true; fi
echo "Installed for $(id -un): menu entry $DATA/applications/modeldesk.desktop (runs $COMMAND)," \
     "icons, and the $MIME_TYPE type for *.mdesk files."
