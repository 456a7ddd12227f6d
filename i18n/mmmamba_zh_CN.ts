<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>FinetuneAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="49"/>
        <source>Fine-tune model on a scene</source>
        <translation>在场景上微调模型</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="53"/>
        <source>Pan-sharpening</source>
        <translation>全色锐化</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;Adapts a pan-sharpening model to one scene, without reference data: training pairs are made by degrading the scene&apos;s own PAN and MS by the resolution ratio (Wald&apos;s protocol), starting from the chosen model.&lt;/p&gt;</source>
        <translation>&lt;p&gt;无需参考数据，使全色锐化模型适应单个场景：以所选模型为起点，将该场景自身的全色（PAN）和多光谱（MS）影像按分辨率比例降质（Wald 协议）来生成训练样本对。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; PAN and MS layers as for &apos;MMMamba Pansharpen&apos; (MS bands in the model&apos;s band order), a time budget in minutes and the sensor, whose MTF gains shape the degradation. &apos;auto&apos; as starting model takes the shipped model for the MS band count, or trains from scratch if there is none.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输入。&lt;/b&gt;与“MMMamba 全色锐化”相同的 PAN 和 MS 图层（MS 波段按模型的波段顺序排列）、以分钟计的时间预算，以及传感器（其 MTF 增益决定降质方式）。起始模型选择“auto”时，使用与 MS 波段数相符的内置模型；若没有，则从头开始训练。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs.&lt;/b&gt; A new model file (.safetensors with its .json model card recording the scene and the training), usable in &apos;MMMamba Pansharpen&apos; as &apos;Model file&apos; or from the extra model folder; optionally the scene pan-sharpened with it.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输出。&lt;/b&gt;一个新的模型文件（.safetensors 及记录场景与训练过程的 .json 模型卡），可在“MMMamba 全色锐化”中作为“模型文件”使用，或放入额外模型文件夹中使用；还可选择输出用该模型全色锐化后的场景。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; Training is far faster on an NVIDIA GPU; on a CPU the same time budget runs far fewer training steps, so expect a smaller improvement.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;GPU 还是 CPU。&lt;/b&gt;在 NVIDIA GPU 上训练要快得多；在 CPU 上，同样的时间预算只能完成少得多的训练步数，因此提升幅度会较小。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="91"/>
        <source>Panchromatic layer (PAN)</source>
        <translation>全色图层（PAN）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="94"/>
        <source>Multispectral layer (MS)</source>
        <translation>多光谱图层（MS）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="97"/>
        <source>Time budget (minutes)</source>
        <translation>时间预算（分钟）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="107"/>
        <source>Starting model</source>
        <translation>起始模型</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="108"/>
        <source>Sensor (MTF of the degradation; &apos;auto&apos;: from the file name)</source>
        <translation>传感器（决定降质的 MTF；“auto”：根据文件名判断）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="117"/>
        <source>Largest PAN side used for training (pixels; larger: the centre)</source>
        <translation>训练使用的 PAN 最大边长（像素；超出时取中心部分）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="128"/>
        <source>Fine-tuned model</source>
        <translation>微调后的模型</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="128"/>
        <source>MMMamba model files (*.safetensors)</source>
        <translation>MMMamba 模型文件（*.safetensors）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="135"/>
        <source>Scene pan-sharpened with the fine-tuned model</source>
        <translation>用微调后模型全色锐化的场景</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="143"/>
        <source>Training steps</source>
        <translation>训练步数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="144"/>
        <source>Validation L1 before</source>
        <translation>微调前验证 L1</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="145"/>
        <source>Validation L1 after</source>
        <translation>微调后验证 L1</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="156"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation>必须同时提供 PAN 图层和 MS 图层。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="191"/>
        <source>Stopped early: the best weights so far were written to {0}.</source>
        <translation>已提前停止：目前最佳的权重已写入 {0}。</translation>
    </message>
</context>
<context>
    <name>MMMambaCommon</name>
    <message>
        <location filename="../plugin/algorithms/base.py" line="87"/>
        <source>Automatic (GPU when usable)</source>
        <translation>自动（GPU 可用时使用 GPU）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="88"/>
        <source>CUDA GPU</source>
        <translation>CUDA GPU</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="89"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="94"/>
        <source>Device</source>
        <translation>计算设备</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="114"/>
        <source>Tile size (output pixels; smaller uses less memory)</source>
        <translation>分块大小（输出像素；越小占用内存越少）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="139"/>
        <source>Model file (.safetensors; overrides the model above)</source>
        <translation>模型文件（.safetensors；优先于上面选择的模型）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="187"/>
        <source>Layer &apos;{name}&apos; is not a file GDAL can read (provider &apos;{provider}&apos;). Save it as GeoTIFF first (right-click &gt; Export &gt; Save As).</source>
        <translation>图层“{name}”不是 GDAL 可读取的文件（数据提供者“{provider}”）。请先将其保存为 GeoTIFF（右键 &gt; 导出 &gt; 另存为）。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="258"/>
        <source>Cancelled; no output was written.</source>
        <translation>已取消；未写入任何输出。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="273"/>
        <source>The device ran out of memory. Lower &apos;Tile size&apos; (Advanced parameters), set &apos;Batch size&apos; to 1, or run on the CPU.</source>
        <translation>计算设备内存不足。请减小“分块大小”（高级参数）、将“批大小”设为 1，或改用 CPU 运行。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="109"/>
        <source>Tile size (output pixels; empty = automatic: 1024 on a GPU, 512 on a CPU; smaller uses less memory)</source>
        <translation>分块大小（输出像素；留空 = 自动：GPU 上为 1024，CPU 上为 512；越小占用内存越少）</translation>
    </message>
</context>
<context>
    <name>MMMambaEnvironment</name>
    <message>
        <location filename="../plugin/environment.py" line="56"/>
        <source>Close QGIS, install them from a terminal, then start QGIS again:</source>
        <translation>请关闭 QGIS，在终端中安装它们，然后重新启动 QGIS：</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="59"/>
        <source>In the OSGeo4W Shell: python -m pip install {packages}</source>
        <translation>在 OSGeo4W Shell 中运行：python -m pip install {packages}</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="52"/>
        <source>MMMamba needs PyTorch and safetensors in the Python that QGIS uses (Python {version}); missing: {missing}. Nothing was installed automatically.</source>
        <translation>MMMamba 需要在 QGIS 所用的 Python（Python {version}）中安装 PyTorch 和 safetensors；缺少：{missing}。插件不会自动安装任何软件包。</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="65"/>
        <source>CPU only (smaller download): {python} -m pip install --user {packages} --extra-index-url https://download.pytorch.org/whl/cpu</source>
        <translation>仅 CPU（下载量更小）：{python} -m pip install --user {packages} --extra-index-url https://download.pytorch.org/whl/cpu</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="71"/>
        <source>With an NVIDIA GPU: {python} -m pip install --user {packages}</source>
        <translation>使用 NVIDIA GPU：{python} -m pip install --user {packages}</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="76"/>
        <source>On Debian or Ubuntu, whose system Python refuses pip by default, add --break-system-packages or use a virtual environment made with &apos;python3 -m venv --system-site-packages&apos; and start QGIS from it.</source>
        <translation>在 Debian 或 Ubuntu 上，系统 Python 默认拒绝 pip 安装：请添加 --break-system-packages，或使用“python3 -m venv --system-site-packages”创建虚拟环境并从中启动 QGIS。</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="102"/>
        <source>A CUDA GPU is usable but mamba-ssm is not installed: the GPU runs the portable PyTorch scan, which is slower than the fused CUDA kernel.</source>
        <translation>CUDA GPU 可用，但未安装 mamba-ssm：GPU 将运行通用的 PyTorch 扫描实现，速度慢于融合的 CUDA 内核。</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="108"/>
        <source>An NVIDIA GPU is present but this PyTorch ({version}) is a CPU-only build; running on the CPU. Install a CUDA build of PyTorch to use the GPU.</source>
        <translation>检测到 NVIDIA GPU，但当前 PyTorch（{version}）是仅支持 CPU 的版本；将在 CPU 上运行。如需使用 GPU，请安装支持 CUDA 的 PyTorch。</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="112"/>
        <source>An NVIDIA GPU is present but PyTorch (CUDA {cuda}) cannot use it (driver too old or GPU not supported); running on the CPU.</source>
        <translation>检测到 NVIDIA GPU，但 PyTorch（CUDA {cuda}）无法使用它（驱动过旧或 GPU 不受支持）；将在 CPU 上运行。</translation>
    </message>
</context>
<context>
    <name>MMMambaSettings</name>
    <message>
        <location filename="../plugin/settings.py" line="29"/>
        <source>Default device (auto, cuda or cpu)</source>
        <translation>默认计算设备（auto、cuda 或 cpu）</translation>
    </message>
    <message>
        <location filename="../plugin/settings.py" line="39"/>
        <source>Extra folder with MMMamba models (.safetensors + .json)</source>
        <translation>额外的 MMMamba 模型文件夹（.safetensors + .json）</translation>
    </message>
</context>
<context>
    <name>PansharpenAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="40"/>
        <source>MMMamba Pansharpen</source>
        <translation>MMMamba 全色锐化</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="44"/>
        <source>Pan-sharpening</source>
        <translation>全色锐化</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;Fuses a high-resolution panchromatic band (PAN) with a lower-resolution multispectral image (MS) into a multispectral image on the PAN grid, with the MMMamba network.&lt;/p&gt;</source>
        <translation>&lt;p&gt;使用 MMMamba 网络，将高分辨率全色波段（PAN）与较低分辨率的多光谱影像（MS）融合为位于 PAN 格网上的多光谱影像。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; PAN: any single band of a raster (choose it with &apos;PAN band&apos;). MS: all bands, in the band order of the model (the model card lists it, e.g. blue, green, red, near-infrared). Both must overlap and be georeferenced; the MS pixel is usually 4 times the PAN pixel. 8-, 11-, 12- and 16-bit integers and floats are accepted: each scene is normalised by its own statistics. Nodata is respected.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输入。&lt;/b&gt;PAN：栅格中的任意单个波段（通过“PAN 波段”选择）。MS：全部波段，按模型的波段顺序排列（见模型卡，例如蓝、绿、红、近红外）。两者必须相互重叠并带有地理参考；MS 像元通常是 PAN 像元的 4 倍。支持 8、11、12 和 16 位整数及浮点数据：每个场景按其自身的统计量归一化。会遵循无数据值（nodata）。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Model.&lt;/b&gt; &apos;auto&apos; takes the shipped model whose band count matches the MS image; choose another by name, or give a model file (.safetensors with its .json card) from the fine-tuning tool. Extra models can be placed in the folder set in Processing options &gt; Providers &gt; MMMamba.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;模型。&lt;/b&gt;“auto”使用波段数与 MS 影像相符的内置模型；也可按名称选择其他模型，或指定由微调工具生成的模型文件（.safetensors 及其 .json 模型卡）。额外的模型可放在“选项 &gt; 处理 &gt; 提供者 &gt; MMMamba”中设置的文件夹里。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Output.&lt;/b&gt; A GeoTIFF with the MS bands at the PAN resolution, on the PAN grid (CRS and extent of the overlap), in the MS data type. It is loaded under the MS layer&apos;s name, in true colour when the model knows the band order.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输出。&lt;/b&gt;一个 GeoTIFF，包含 PAN 分辨率的 MS 各波段，位于 PAN 格网上（坐标参考系与重叠区域范围），数据类型与 MS 相同。结果以 MS 图层的名称加载；若模型知道波段顺序，则以真彩色显示。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="94"/>
        <source>Panchromatic layer (PAN)</source>
        <translation>全色图层（PAN）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="97"/>
        <source>PAN band</source>
        <translation>PAN 波段</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="105"/>
        <source>Multispectral layer (MS)</source>
        <translation>多光谱图层（MS）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="108"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="111"/>
        <source>Tile overlap (PAN pixels; empty = automatic)</source>
        <translation>分块重叠（PAN 像素；留空 = 自动）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="122"/>
        <source>Batch size (tiles per network call)</source>
        <translation>批大小（每次网络调用处理的分块数）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="134"/>
        <source>Pan-sharpened</source>
        <translation>全色锐化结果</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="151"/>
        <source>Model &apos;{model}&apos; expects {expected} MS bands but layer &apos;{layer}&apos; has {actual}. Choose &apos;auto&apos; or a model made for {actual} bands.</source>
        <translation>模型“{model}”需要 {expected} 个 MS 波段，但图层“{layer}”有 {actual} 个。请选择“auto”或适用于 {actual} 个波段的模型。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="169"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation>必须同时提供 PAN 图层和 MS 图层。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; &apos;Automatic&apos; uses an NVIDIA GPU when PyTorch can (with its Triton kernels and a tile size of 1024: about 10 million PAN pixels per second on an H200), else the CPU. The CPU is slower: with the shipped 4-band model a million PAN pixels (1000 x 1000) took about 50 seconds on two cores, so use a GPU for whole scenes or crop the scene first. Tile size is an upper bound that bounds memory: lower it if the device runs out of memory.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;GPU 还是 CPU。&lt;/b&gt;“自动”在 PyTorch 能够使用 NVIDIA GPU 时使用 GPU（通过其 Triton 内核、分块大小为 1024 时：在 H200 上每秒约 1000 万个 PAN 像素），否则使用 CPU。CPU 较慢：使用内置 4 波段模型时，一百万个 PAN 像素（1000 x 1000）在两个核心上约需 50 秒，因此处理整景影像时请使用 GPU，或先裁剪影像。分块大小是一个上限，决定内存占用：如果设备内存不足，请减小分块大小。&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>QualityAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="55"/>
        <source>Pan-sharpening quality assessment</source>
        <translation>全色锐化质量评估</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="59"/>
        <source>Pan-sharpening</source>
        <translation>全色锐化</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;Measures how well MMMamba and classical methods pan-sharpen this scene, without any reference image.&lt;/p&gt;</source>
        <translation>&lt;p&gt;在没有任何参考影像的情况下，衡量 MMMamba 与经典方法对该场景的全色锐化效果。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Reduced resolution (Wald&apos;s protocol).&lt;/b&gt; PAN and MS are degraded by the resolution ratio with filters matching the sensor&apos;s MTF, fused, and compared with the original MS: Q2n, SAM, ERGAS, SCC, PSNR, SSIM (ideal: Q2n, SCC, SSIM near 1; SAM, ERGAS near 0).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;降分辨率评估（Wald 协议）。&lt;/b&gt;用与传感器 MTF 相匹配的滤波器将 PAN 和 MS 按分辨率比例降质，融合后与原始 MS 比较：Q2n、SAM、ERGAS、SCC、PSNR、SSIM（理想值：Q2n、SCC、SSIM 接近 1；SAM、ERGAS 接近 0）。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Full resolution.&lt;/b&gt; The fused products at the original scale are scored with D-lambda (spectral distortion), D-S (spatial distortion) and HQNR (ideal 1).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;全分辨率评估。&lt;/b&gt;原始尺度下的融合结果用 D-lambda（光谱失真）、D-S（空间失真）和 HQNR（理想值 1）评分。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; The PAN and MS layers as for &apos;MMMamba Pansharpen&apos; and the sensor, whose MTF gains drive the degradation (&apos;unknown&apos; uses generic gains).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输入。&lt;/b&gt;与“MMMamba 全色锐化”相同的 PAN 和 MS 图层，以及传感器，其 MTF 增益决定降质方式（“unknown”使用通用增益）。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs.&lt;/b&gt; An HTML report with tables and image crops; the figures are also written as JSON and CSV beside it (or where &apos;Figures as JSON&apos; says). Classical methods take seconds; MMMamba runs on the device chosen (on a CPU, keep &apos;Largest PAN side assessed&apos; small).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输出。&lt;/b&gt;一份包含表格和影像裁剪图的 HTML 报告；各项指标还会以 JSON 和 CSV 格式写在报告旁边（或写到“指标 JSON 文件”指定的位置）。经典方法只需几秒；MMMamba 在所选设备上运行（使用 CPU 时，请将“评估的 PAN 最大边长”设得小一些）。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="100"/>
        <source>Panchromatic layer (PAN)</source>
        <translation>全色图层（PAN）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="103"/>
        <source>Multispectral layer (MS)</source>
        <translation>多光谱图层（MS）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="106"/>
        <source>Sensor</source>
        <translation>传感器</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="111"/>
        <source>Methods</source>
        <translation>方法</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="120"/>
        <source>MMMamba model</source>
        <translation>MMMamba 模型</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="122"/>
        <source>Largest PAN side assessed (pixels; larger scenes: the centre; 0 = all)</source>
        <translation>评估的 PAN 最大边长（像素；场景更大时取中心部分；0 = 全部）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="135"/>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="135"/>
        <source>HTML files (*.html)</source>
        <translation>HTML 文件（*.html）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="140"/>
        <source>Figures as JSON</source>
        <translation>指标 JSON 文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="140"/>
        <source>JSON files (*.json)</source>
        <translation>JSON 文件（*.json）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="159"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation>必须同时提供 PAN 图层和 MS 图层。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="162"/>
        <source>Choose at least one method.</source>
        <translation>请至少选择一种方法。</translation>
    </message>
</context>
<context>
    <name>ZeroShotSRAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="52"/>
        <source>Zero-shot SR</source>
        <translation>零样本超分辨率</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="56"/>
        <source>Super-resolution</source>
        <translation>超分辨率</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;Increases the resolution of any raster by 2, 3, 4 or 8 with the MMMamba fusion network, without training data prepared by you.&lt;/p&gt;</source>
        <translation>&lt;p&gt;使用 MMMamba 融合网络将任意栅格的分辨率提高 2、3、4 或 8 倍，无需您准备训练数据。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Guided.&lt;/b&gt; Give a co-registered higher-resolution raster as &apos;Guide&apos; (a panchromatic band, a 10 m Sentinel-2 band for its 20 m bands, an aerial image) and the band to use, or none for the mean of its bands. The guide&apos;s grid defines the output grid; the scale must equal the ratio of the input&apos;s pixel size to the guide&apos;s.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;有引导。&lt;/b&gt;指定一个已配准的更高分辨率栅格作为“引导”（如全色波段、用于 20 米波段的 Sentinel-2 10 米波段、航空影像）以及要使用的波段；不指定波段时使用其各波段的平均值。输出格网由引导影像的格网决定；放大倍数必须等于输入像元大小与引导像元大小之比。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Unguided.&lt;/b&gt; Without a guide, the network&apos;s panchromatic input is synthesised from the input itself and the model adapts to the image by learning from downscaled copies of it, starting from the shipped weights. &apos;Adaptation steps&apos; or &apos;Adaptation time&apos; bound that learning; 0 steps uses the shipped weights only. Leave both empty for the default budget.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;无引导。&lt;/b&gt;没有引导影像时，网络的全色输入由输入影像自身合成，模型以内置权重为起点，通过学习该影像的降采样副本来适应影像。“自适应步数”或“自适应时间”限制这一学习过程；0 步表示只使用内置权重。两者都留空则使用默认预算。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; Any band count and bit depth (8-16-bit integers, floats); nodata is respected.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输入。&lt;/b&gt;任意波段数和位深（8 至 16 位整数、浮点数）；会遵循无数据值（nodata）。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Output.&lt;/b&gt; A GeoTIFF in the same CRS and origin, pixel size divided by the scale, in the input&apos;s data type, loaded under the input&apos;s name.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;输出。&lt;/b&gt;一个坐标参考系和原点与输入相同的 GeoTIFF，像元大小为输入除以放大倍数，数据类型与输入相同，并以输入的名称加载。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; Adaptation trains the network, which is far faster on an NVIDIA GPU; on a CPU keep the adaptation budget to a few minutes and the input small.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;GPU 还是 CPU。&lt;/b&gt;自适应过程会训练网络，在 NVIDIA GPU 上要快得多；在 CPU 上请将自适应预算控制在几分钟内，并使用较小的输入。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="104"/>
        <source>Input raster</source>
        <translation>输入栅格</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="105"/>
        <source>Scale factor</source>
        <translation>放大倍数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="113"/>
        <source>Guide (higher-resolution band)</source>
        <translation>引导（更高分辨率的波段）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="118"/>
        <source>Guide band (empty: the mean of the guide&apos;s bands)</source>
        <translation>引导波段（留空：引导影像各波段的平均值）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="126"/>
        <source>Adaptation steps (0 = shipped weights only; empty = default)</source>
        <translation>自适应步数（0 = 仅用内置权重；留空 = 默认）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="135"/>
        <source>Adaptation time in seconds (instead of steps)</source>
        <translation>自适应时间，单位秒（代替步数）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="144"/>
        <source>Model file (.safetensors; default: the shipped model)</source>
        <translation>模型文件（.safetensors；默认：内置模型）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="178"/>
        <source>Super-resolved</source>
        <translation>超分辨率结果</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="192"/>
        <source>Give either &apos;Adaptation steps&apos; or &apos;Adaptation time&apos;, not both.</source>
        <translation>请只指定“自适应步数”或“自适应时间”之一，不要同时指定。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="250"/>
        <source>{name} ×{scale}</source>
        <translation>{name} ×{scale}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="154"/>
        <source>Flipped and rotated views averaged (more: better, slower)</source>
        <translation>平均的翻转与旋转视图数（越多越好，但更慢）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="164"/>
        <source>Back-projection iterations (0 = none)</source>
        <translation>反投影迭代次数（0 = 不使用）</translation>
    </message>
</context>
</TS>
