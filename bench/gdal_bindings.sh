#!/usr/bin/env bash
# GDAL's Python bindings (osgeo) for a machine that has none, such as the GPU machines the GeoTIFF
# scene benchmark runs on (`bench/gpu_infer.py --sections scene`).
#
# GDAL 3.12.2's bindings are compiled from their PyPI sdist against the libgdal that the
# rasterio 1.5.2 manylinux wheel bundles (with the libraries it needs and GDAL's and PROJ's
# data). GDAL's C headers come from the gdal-async 3.12.2 npm package, which carries GDAL's
# source. The result is one tar.xz of a folder to put on PYTHONPATH. The modules find libgdal
# through an RPATH (not a RUNPATH) that also serves the libraries libgdal needs.
#
#   PYTHON=python3.12 bash bench/gdal_bindings.sh gdal-site.tar.xz   # PYTHON: the target's version
#   # Python 3.11 (rasterio 1.5 has no wheel for it): GDAL 3.10.3, headers of 3.10.2
#   PYTHON=python3.11 VER=3.10.3 RASTERIO=1.4.4 HEADERS=3.10.2 bash bench/gdal_bindings.sh out.tar.xz
#   # on the target machine:
#   mkdir -p /tmp/gdsite && tar xJf gdal-site.tar.xz -C /tmp/gdsite
#   export PYTHONPATH=/tmp/gdsite GDAL_DATA=/tmp/gdsite/gdal_share/gdal_data \
#          PROJ_DATA=/tmp/gdsite/gdal_share/proj_data
#
# Needs: PYTHON with its headers and numpy 2 (for osgeo.gdal_array), g++, curl, npm, pip.
set -euo pipefail
OUT_TAR=$(realpath -m "${1:?usage: PYTHON=python3.x bash bench/gdal_bindings.sh OUT.tar.xz}")
PY=${PYTHON:-python3}
VER=${VER:-3.12.2}            # GDAL release of the bindings and of rasterio's libgdal
RASTERIO=${RASTERIO:-1.5.2}   # the rasterio wheel that bundles that libgdal
HEADERS=${HEADERS:-$VER}      # gdal-async release with GDAL's source (same minor release)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

TAG=$("$PY" -c "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")
SUFFIX=$("$PY" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
PYINC=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
NPINC=$("$PY" -c "import numpy; assert int(numpy.__version__.split('.')[0]) >= 2; print(numpy.get_include())")

"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "${TAG#cp}" \
    --platform manylinux_2_28_x86_64 -d wheel "rasterio==$RASTERIO"
SDIST=$(curl -fsS https://pypi.org/simple/gdal/ | grep -o "https://[^\"#]*/gdal-$VER.tar.gz" | head -1)
curl -fsSL -o gdal.tar.gz "$SDIST"
curl -fsSL -o headers.tgz "$(npm view "gdal-async@$HEADERS" dist.tarball)"

tar xzf gdal.tar.gz
tar xzf headers.tgz package/deps/libgdal/gdal package/deps/libgdal/arch/unix
grep -q "\"$HEADERS\"" package/deps/libgdal/gdal/gcore/gdal_version.h
mkdir site && (cd site && "$PY" -m zipfile -e ../wheel/rasterio-*.whl . >/dev/null)
LIB=$(cd site/rasterio.libs && ls libgdal-*.so.*)
[[ $LIB == *".$VER" ]] || { echo "rasterio $RASTERIO bundles $LIB, not GDAL $VER" >&2; exit 1; }
G=package/deps/libgdal/gdal
INC=(-Ipackage/deps/libgdal/arch/unix -I$G/port -I$G/gcore -I$G/gcore/gdal_version_full -I$G/alg
     -I$G/ogr -I$G/ogr/ogrsf_frmts -I$G/gnm -I$G/apps -I"$PYINC" -I"$NPINC")
mkdir -p site/osgeo site/gdal_share
cp "gdal-$VER"/osgeo/*.py site/osgeo/
build() {  # source, module, compiler
    "$3" -shared -fPIC -O1 -w "${INC[@]}" "gdal-$VER/extensions/$1" -o "site/osgeo/$2$SUFFIX" \
        -Lsite/rasterio.libs "-l:$LIB" -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../rasterio.libs'
}
build gdal_wrap.cpp _gdal g++
build osr_wrap.cpp _osr g++
build ogr_wrap.cpp _ogr g++
build gdal_array_wrap.cpp _gdal_array g++
build gdalconst_wrap.c _gdalconst gcc
mv site/rasterio/gdal_data site/rasterio/proj_data site/gdal_share/
tar cJf "$OUT_TAR" -C site osgeo rasterio.libs gdal_share
echo "$OUT_TAR: GDAL $VER bindings for $TAG ($(du -h "$OUT_TAR" | cut -f1))"
