#!/usr/bin/env bash
# Render CandidateX's nginx configuration from the templates in nginx/.
#
#   render-nginx.sh dev|production --out DIR [--areas "auth ..."] [--src NGINXDIR] [NAME=VALUE ...]
#
# Writes DIR/nginx.conf (dev: a whole nginx.conf) or DIR/candidatex.conf (production: a
# site for /etc/nginx/sites-enabled), DIR/snippets/*.conf, and DIR/areas/<area>.conf for
# every area: the live snippet (area-NAME.conf) for the areas named by --areas, the JSON 404
# one (area-NAME-off.conf) for the others. Each @NAME@ placeholder is replaced by its value;
# @CONF@ is DIR. Fails if a placeholder is left without a value.
set -euo pipefail

AREAS_ALL="auth interview resume admin push"

die() { printf 'render-nginx: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: render-nginx.sh dev|production --out DIR [--areas LIST] [NAME=VALUE ...]"
mode=$1; shift
case $mode in
dev|production) ;;
*) die "unknown mode '$mode' (dev or production)" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg=$(cd "$here/.." && pwd)      # the repo, or the installed share/candidatex
src=$pkg/nginx
out=
areas=auth
declare -A vars=()

# Defaults: paths of the tree this script lives in (repo or installed prefix).
# The built single-page app (www/dist) once it exists, else www/ itself.
if [ -f "$pkg/www/dist/index.html" ]; then
	vars[WWW]=$pkg/www/dist
else
	vars[WWW]=$pkg/www
fi
vars[DOCS]=$pkg/www/docs
vars[VENDOR]=$pkg/www/node_modules/swagger-ui-dist
vars[SCHEMA]=$pkg/schema
if [ "$mode" = production ]; then
	vars[SOCKETDIR]=/run/candidatex
	vars[ACME_ROOT]=/var/www/html
	vars[HSTS]="max-age=63072000; includeSubDomains"
else
	vars[LISTEN]=127.0.0.1
	vars[USER_LINE]=
	vars[HSTS]="max-age=31536000"
fi

while [ $# -gt 0 ]; do
	case $1 in
	--out) out=${2:?--out needs a folder}; shift 2 ;;
	--areas) areas=${2?--areas needs a list}; shift 2 ;;
	--src) src=${2:?--src needs a folder}; shift 2 ;;
	*=*)
		name=${1%%=*}
		[[ $name =~ ^[A-Z][A-Z_]*$ ]] || die "bad variable name '$name'"
		vars[$name]=${1#*=}
		shift ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[ -n "$out" ] || die "--out DIR is required"
case $out in /*) ;; *) die "--out must be an absolute path" ;; esac
[ -d "$src/snippets" ] || die "no templates in $src"
vars[CONF]=$out
if [ "$mode" = production ] && [ -z "${vars[DOMAIN]:-}" ]; then
	die "production needs DOMAIN=your.domain"
fi
for a in $areas; do
	[[ " $AREAS_ALL " == *" $a "* ]] || die "unknown area '$a' (known: $AREAS_ALL)"
done

# One sed program replacing every @NAME@; values are escaped for the s||| replacement.
sedprog=()
for name in "${!vars[@]}"; do
	value=${vars[$name]}
	case $value in *$'\n'*) die "value of $name has a newline" ;; esac
	value=$(printf '%s' "$value" | sed -e 's/[\\|&]/\\&/g')
	sedprog+=(-e "s|@${name}@|${value}|g")
done

render() {  # render SRC DEST
	local tmp="$2.tmp.$$"
	sed "${sedprog[@]}" "$1" >"$tmp"
	if grep -n '@[A-Z][A-Z_]*@' "$tmp" >&2; then
		rm -f "$tmp"
		die "$1: placeholder(s) above have no value"
	fi
	mv -f "$tmp" "$2"
}

mkdir -p "$out/snippets" "$out/areas"
for f in "$src"/snippets/cx-*.conf; do
	render "$f" "$out/snippets/$(basename "$f")"
done
rm -f "$out"/areas/*.conf
for a in $AREAS_ALL; do
	if [[ " $areas " == *" $a "* ]]; then
		render "$src/snippets/area-$a.conf" "$out/areas/$a.conf"
	else
		render "$src/snippets/area-$a-off.conf" "$out/areas/$a.conf"
	fi
done
if [ "$mode" = dev ]; then
	render "$src/dev.conf.template" "$out/nginx.conf"
else
	render "$src/production.conf.template" "$out/candidatex.conf"
fi
