<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>FinetuneAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="49"/>
        <source>Fine-tune model on a scene</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="53"/>
        <source>Pan-sharpening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;Adapts a pan-sharpening model to one scene, without reference data: training pairs are made by degrading the scene&apos;s own PAN and MS by the resolution ratio (Wald&apos;s protocol), starting from the chosen model.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; PAN and MS layers as for &apos;MMMamba Pansharpen&apos; (MS bands in the model&apos;s band order), a time budget in minutes and the sensor, whose MTF gains shape the degradation. &apos;auto&apos; as starting model takes the shipped model for the MS band count, or trains from scratch if there is none.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs.&lt;/b&gt; A new model file (.safetensors with its .json model card recording the scene and the training), usable in &apos;MMMamba Pansharpen&apos; as &apos;Model file&apos; or from the extra model folder; optionally the scene pan-sharpened with it.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; Training is far faster on an NVIDIA GPU; on a CPU the same time budget runs far fewer training steps, so expect a smaller improvement.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="91"/>
        <source>Panchromatic layer (PAN)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="94"/>
        <source>Multispectral layer (MS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="97"/>
        <source>Time budget (minutes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="107"/>
        <source>Starting model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="108"/>
        <source>Sensor (MTF of the degradation; &apos;auto&apos;: from the file name)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="117"/>
        <source>Largest PAN side used for training (pixels; larger: the centre)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="128"/>
        <source>Fine-tuned model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="128"/>
        <source>MMMamba model files (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="135"/>
        <source>Scene pan-sharpened with the fine-tuned model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="143"/>
        <source>Training steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="144"/>
        <source>Validation L1 before</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="145"/>
        <source>Validation L1 after</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="156"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="191"/>
        <source>Stopped early: the best weights so far were written to {0}.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MMMambaCommon</name>
    <message>
        <location filename="../plugin/algorithms/base.py" line="87"/>
        <source>Automatic (GPU when usable)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="88"/>
        <source>CUDA GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="89"/>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="94"/>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="107"/>
        <source>Tile size (output pixels; smaller uses less memory)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="130"/>
        <source>Model file (.safetensors; overrides the model above)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="178"/>
        <source>Layer &apos;{name}&apos; is not a file GDAL can read (provider &apos;{provider}&apos;). Save it as GeoTIFF first (right-click &gt; Export &gt; Save As).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="249"/>
        <source>Cancelled; no output was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="264"/>
        <source>The device ran out of memory. Lower &apos;Tile size&apos; (Advanced parameters), set &apos;Batch size&apos; to 1, or run on the CPU.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MMMambaEnvironment</name>
    <message>
        <location filename="../plugin/environment.py" line="56"/>
        <source>Close QGIS, install them from a terminal, then start QGIS again:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="59"/>
        <source>In the OSGeo4W Shell: python -m pip install {packages}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="52"/>
        <source>MMMamba needs PyTorch and safetensors in the Python that QGIS uses (Python {version}); missing: {missing}. Nothing was installed automatically.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="65"/>
        <source>CPU only (smaller download): {python} -m pip install --user {packages} --extra-index-url https://download.pytorch.org/whl/cpu</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="71"/>
        <source>With an NVIDIA GPU: {python} -m pip install --user {packages}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="76"/>
        <source>On Debian or Ubuntu, whose system Python refuses pip by default, add --break-system-packages or use a virtual environment made with &apos;python3 -m venv --system-site-packages&apos; and start QGIS from it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="102"/>
        <source>A CUDA GPU is usable but mamba-ssm is not installed: the GPU runs the portable PyTorch scan, which is slower than the fused CUDA kernel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="108"/>
        <source>An NVIDIA GPU is present but this PyTorch ({version}) is a CPU-only build; running on the CPU. Install a CUDA build of PyTorch to use the GPU.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="112"/>
        <source>An NVIDIA GPU is present but PyTorch (CUDA {cuda}) cannot use it (driver too old or GPU not supported); running on the CPU.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MMMambaSettings</name>
    <message>
        <location filename="../plugin/settings.py" line="29"/>
        <source>Default device (auto, cuda or cpu)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings.py" line="39"/>
        <source>Extra folder with MMMamba models (.safetensors + .json)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PansharpenAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="40"/>
        <source>MMMamba Pansharpen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="44"/>
        <source>Pan-sharpening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;Fuses a high-resolution panchromatic band (PAN) with a lower-resolution multispectral image (MS) into a multispectral image on the PAN grid, with the MMMamba network.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; PAN: any single band of a raster (choose it with &apos;PAN band&apos;). MS: all bands, in the band order of the model (the model card lists it, e.g. blue, green, red, near-infrared). Both must overlap and be georeferenced; the MS pixel is usually 4 times the PAN pixel. 8-, 11-, 12- and 16-bit integers and floats are accepted: each scene is normalised by its own statistics. Nodata is respected.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Model.&lt;/b&gt; &apos;auto&apos; takes the shipped model whose band count matches the MS image; choose another by name, or give a model file (.safetensors with its .json card) from the fine-tuning tool. Extra models can be placed in the folder set in Processing options &gt; Providers &gt; MMMamba.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Output.&lt;/b&gt; A GeoTIFF with the MS bands at the PAN resolution, on the PAN grid (CRS and extent of the overlap), in the MS data type. It is loaded under the MS layer&apos;s name, in true colour when the model knows the band order.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; &apos;Automatic&apos; uses an NVIDIA GPU when PyTorch can (fastest with mamba-ssm installed), else the CPU. On a GPU a 10 000 x 10 000 PAN scene takes about a minute; on a laptop CPU expect roughly 20 seconds per million PAN pixels. Tile size bounds memory: lower it if the device runs out of memory.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="92"/>
        <source>Panchromatic layer (PAN)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="95"/>
        <source>PAN band</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="103"/>
        <source>Multispectral layer (MS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="106"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="109"/>
        <source>Tile overlap (PAN pixels; empty = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="120"/>
        <source>Batch size (tiles per network call)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="132"/>
        <source>Pan-sharpened</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="149"/>
        <source>Model &apos;{model}&apos; expects {expected} MS bands but layer &apos;{layer}&apos; has {actual}. Choose &apos;auto&apos; or a model made for {actual} bands.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="167"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QualityAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="55"/>
        <source>Pan-sharpening quality assessment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="59"/>
        <source>Pan-sharpening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;Measures how well MMMamba and classical methods pan-sharpen this scene, without any reference image.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Reduced resolution (Wald&apos;s protocol).&lt;/b&gt; PAN and MS are degraded by the resolution ratio with filters matching the sensor&apos;s MTF, fused, and compared with the original MS: Q2n, SAM, ERGAS, SCC, PSNR, SSIM (ideal: Q2n, SCC, SSIM near 1; SAM, ERGAS near 0).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Full resolution.&lt;/b&gt; The fused products at the original scale are scored with D-lambda (spectral distortion), D-S (spatial distortion) and HQNR (ideal 1).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; The PAN and MS layers as for &apos;MMMamba Pansharpen&apos; and the sensor, whose MTF gains drive the degradation (&apos;unknown&apos; uses generic gains).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs.&lt;/b&gt; An HTML report with tables and image crops; the figures are also written as JSON and CSV beside it (or where &apos;Figures as JSON&apos; says). Classical methods take seconds; MMMamba runs on the device chosen (on a CPU, keep &apos;Largest PAN side assessed&apos; small).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="100"/>
        <source>Panchromatic layer (PAN)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="103"/>
        <source>Multispectral layer (MS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="106"/>
        <source>Sensor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="111"/>
        <source>Methods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="120"/>
        <source>MMMamba model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="122"/>
        <source>Largest PAN side assessed (pixels; larger scenes: the centre; 0 = all)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="135"/>
        <source>Report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="135"/>
        <source>HTML files (*.html)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="140"/>
        <source>Figures as JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="140"/>
        <source>JSON files (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="159"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="162"/>
        <source>Choose at least one method.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ZeroShotSRAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="47"/>
        <source>Zero-shot SR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="51"/>
        <source>Super-resolution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="59"/>
        <source>&lt;p&gt;Increases the resolution of any raster by 2, 3, 4 or 8 with the MMMamba fusion network, without training data prepared by you.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="59"/>
        <source>&lt;p&gt;&lt;b&gt;Guided.&lt;/b&gt; Give a co-registered higher-resolution raster as &apos;Guide&apos; (a panchromatic band, a 10 m Sentinel-2 band for its 20 m bands, an aerial image) and the band to use, or none for the mean of its bands. The guide&apos;s grid defines the output grid; the scale must equal the ratio of the input&apos;s pixel size to the guide&apos;s.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="59"/>
        <source>&lt;p&gt;&lt;b&gt;Unguided.&lt;/b&gt; Without a guide, the network&apos;s panchromatic input is synthesised from the input itself and the model adapts to the image by learning from downscaled copies of it, starting from the shipped weights. &apos;Adaptation steps&apos; or &apos;Adaptation time&apos; bound that learning; 0 steps uses the shipped weights only. Leave both empty for the default budget.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="59"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; Any band count and bit depth (8-16-bit integers, floats); nodata is respected.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="59"/>
        <source>&lt;p&gt;&lt;b&gt;Output.&lt;/b&gt; A GeoTIFF in the same CRS and origin, pixel size divided by the scale, in the input&apos;s data type, loaded under the input&apos;s name.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="59"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; Adaptation trains the network, which is far faster on an NVIDIA GPU; on a CPU keep the adaptation budget to a few minutes and the input small.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="99"/>
        <source>Input raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="100"/>
        <source>Scale factor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="108"/>
        <source>Guide (higher-resolution band)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="113"/>
        <source>Guide band (empty: the mean of the guide&apos;s bands)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="121"/>
        <source>Adaptation steps (0 = shipped weights only; empty = default)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="130"/>
        <source>Adaptation time in seconds (instead of steps)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="139"/>
        <source>Model file (.safetensors; default: the shipped model)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="151"/>
        <source>Super-resolved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="165"/>
        <source>Give either &apos;Adaptation steps&apos; or &apos;Adaptation time&apos;, not both.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="221"/>
        <source>{name} ×{scale}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
