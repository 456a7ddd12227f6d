"""Drives the QGIS desktop (run by `qgis --code desktop_session.py` under a virtual screen).

Steps, as a user would click them: find MMMamba Pansharpen in the Processing Toolbox and open
its dialog, fill it in, take a screenshot, run it, wait for the result layer in the layer tree;
then open the same algorithm as a batch process from the toolbox, load three rows in the batch
file format of QGIS 3.40, run them and wait for the three results. Findings go to a JSON file
that tests/plugin/test_desktop.py checks. Configuration comes as JSON in MMMAMBA_GUI_CONFIG.
"""

import json
import os
import shutil
import subprocess
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication

CONFIG = json.loads(Path(os.environ["MMMAMBA_GUI_CONFIG"]).read_text())
ARTIFACTS = Path(CONFIG["artifacts"])
REPORT = Path(CONFIG["report"])
findings = {"steps": [], "errors": []}
T0 = time.monotonic()
_keep = []  # Python references to Qt objects that must live as long as the session


def save_report():
    REPORT.write_text(json.dumps(findings, indent=2))


def finish(error=None):
    """Write the findings once, then quit (forcefully if QGIS's exit path waits on something)."""
    if findings.get("finished"):
        return
    findings["finished"] = True
    if error:
        findings["errors"].append(error)
    save_report()
    QTimer.singleShot(15_000, lambda: os._exit(0))
    for dialog in _keep:
        dialog.close()
    QgsProject.instance().clear()
    QgsProject.instance().setDirty(False)
    qgis.utils.iface.actionExit().trigger()


def guarded(fn):
    """Run a step; any exception ends the session with its traceback in the report."""

    def wrapper(*args):
        try:
            fn(*args)
        except Exception:
            finish(traceback.format_exc())

    return wrapper


def later(ms, fn):
    QTimer.singleShot(ms, guarded(fn))


def wait_until(condition, then, what, timeout_ms=240_000, every_ms=250):
    """Poll `condition()` while the event loop runs; call `then()` once true."""
    waited = [0]

    def poll():
        if condition():
            then()
        elif waited[0] >= timeout_ms:
            finish(f"timed out waiting for {what}")
        else:
            waited[0] += every_ms
            later(every_ms, poll)

    later(every_ms, poll)


def screenshot(name, widget=None):
    """Whole virtual screen via ImageMagick (no window manager: dialogs are bare windows)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    QApplication.processEvents()
    if shutil.which("import"):
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=60)
    else:
        (widget or qgis.utils.iface.mainWindow()).grab().save(str(path))
    findings.setdefault("screenshots", []).append(str(path))


def toolbox_select(alg_id):
    """Select an algorithm in the Processing Toolbox tree the way a search + click does."""
    toolbox = qgis.utils.plugins["processing"].toolbox
    toolbox.show()
    toolbox.searchBox.setText("MMMamba")
    tree = toolbox.algorithmTree
    model = tree.model()

    def walk(parent):
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            alg = tree.algorithmForIndex(index)
            if alg is not None and alg.id() == alg_id:
                return index
            found = walk(index)
            if found is not None:
                return found
        return None

    index = walk(tree.rootIndex())
    if index is None:
        raise RuntimeError(f"{alg_id} is not in the Processing Toolbox")
    tree.setCurrentIndex(index)
    selected = tree.selectedAlgorithm()
    findings["toolbox_selected"] = selected.id() if selected else None
    return toolbox


def top_dialog(class_name):
    for widget in QApplication.topLevelWidgets():
        if type(widget).__name__ == class_name and widget.isVisible():
            return widget
    return None


def layers_with_source(path):
    return [
        layer
        for layer in QgsProject.instance().mapLayers().values()
        if Path(layer.source().split("|")[0]) == Path(path)
    ]


# -- single run ----------------------------------------------------------------------------


def step(name):
    findings["steps"].append(f"{time.monotonic() - T0:.1f} s: {name}")


def start():
    step("started")
    qgis.utils.iface.mainWindow().resize(1600, 1000)
    project = QgsProject.instance()
    pan = QgsRasterLayer(CONFIG["pan"], "Osman PAN")
    ms = QgsRasterLayer(CONFIG["ms"], "Osman MS")
    if not (pan.isValid() and ms.isValid()):
        raise RuntimeError("test layers did not load")
    project.addMapLayers([pan, ms])
    findings["layers"] = {"pan": pan.id(), "ms": ms.id()}
    findings["provider_loaded"] = (
        QgsApplication.processingRegistry().providerById("mmmamba") is not None
    )
    toolbox = toolbox_select("mmmamba:pansharpen")
    # The dialog is modal (exec): drive it from a timer queued before it opens.
    later(500, fill_dialog)
    toolbox.executeAlgorithm()


def fill_dialog():
    dialog = top_dialog("AlgorithmDialog")
    if dialog is None:
        later(250, fill_dialog)
        return
    _keep.append(dialog)
    findings["dialog_title"] = dialog.windowTitle()
    findings["dialog_algorithm"] = dialog.algorithm().id()
    dialog.setParameters(
        {
            "PAN": findings["layers"]["pan"],
            "MS": findings["layers"]["ms"],
            "MODEL_FILE": CONFIG["model_file"],
            "DEVICE": 2,
            "TILE_SIZE": 64,
            "OUTPUT": CONFIG["output"],
        }
    )
    dialog.resize(1100, 800)
    dialog.move(250, 60)
    QApplication.processEvents()
    later(800, lambda: (screenshot("pansharpen_dialog.png", dialog), run_dialog(dialog)))


def run_dialog(dialog):
    step("dialog filled")
    dialog.runButton().click()
    wait_until(
        lambda: bool(layers_with_source(CONFIG["output"])),
        lambda: single_done(dialog),
        "the pan-sharpened layer",
    )


def single_done(dialog):
    layer = layers_with_source(CONFIG["output"])[0]
    node = QgsProject.instance().layerTreeRoot().findLayer(layer.id())
    findings["single"] = {
        "name": layer.name(),
        "in_layer_tree": node is not None,
        "band_count": layer.bandCount(),
        "renderer": layer.renderer().type() if layer.renderer() else None,
    }
    step("single run done")
    later(500, lambda: (screenshot("pansharpen_result.png"), dialog.close(), start_batch()))


# -- batch ---------------------------------------------------------------------------------


def start_batch():
    toolbox = toolbox_select("mmmamba:pansharpen")
    later(500, fill_batch)
    toolbox.executeAlgorithmAsBatchProcess()


def fill_batch():
    dialog = top_dialog("BatchAlgorithmDialog")
    if dialog is None:
        later(250, fill_batch)
        return
    _keep.append(dialog)
    panel = dialog.mainWidget()
    rows = [
        {
            panel.PARAMETERS: {
                "PAN": item["pan"],
                "PAN_BAND": 1,
                "MS": item["ms"],
                "MODEL": "auto",
                "MODEL_FILE": CONFIG["model_file"],
                "DEVICE": 2,
                "TILE_SIZE": 64,
                "BATCH_SIZE": 1,
            },
            panel.OUTPUTS: {"OUTPUT": item["output"]},
        }
        for item in CONFIG["batch"]
    ]
    # Exactly what "Open batch file" does after its file dialog.
    panel.load_batch_file_3_40_version({panel.FORMAT: panel.CURRENT_FORMAT, panel.ROWS: rows})
    findings["batch_rows"] = panel.batchRowCount()
    panel.checkLoadLayersOnCompletion.setChecked(True)
    dialog.resize(1500, 600)
    dialog.move(50, 100)
    QApplication.processEvents()
    later(800, lambda: (screenshot("pansharpen_batch.png", dialog), run_batch(dialog)))


def run_batch(dialog):
    dialog.runAlgorithm()
    outputs = [item["output"] for item in CONFIG["batch"]]
    wait_until(
        lambda: all(layers_with_source(path) for path in outputs),
        lambda: batch_done(outputs),
        "the three batch results",
    )


def batch_done(outputs):
    findings["batch"] = [
        {"output": path, "exists": Path(path).is_file(), "layers": len(layers_with_source(path))}
        for path in outputs
    ]
    step("batch done")
    later(500, lambda: finish())


QTimer.singleShot(CONFIG.get("session_timeout_ms", 300_000), lambda: finish("session timeout"))
later(1500, start)
