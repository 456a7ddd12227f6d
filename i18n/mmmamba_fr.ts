<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>FinetuneAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="49"/>
        <source>Fine-tune model on a scene</source>
        <translation>Affiner un modèle sur une scène</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="53"/>
        <source>Pan-sharpening</source>
        <translation>Pansharpening</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;Adapts a pan-sharpening model to one scene, without reference data: training pairs are made by degrading the scene&apos;s own PAN and MS by the resolution ratio (Wald&apos;s protocol), starting from the chosen model.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Adapte un modèle de pansharpening à une scène, sans données de référence : les paires d'apprentissage sont obtenues en dégradant le PAN et le MS de la scène elle-même du rapport de résolution (protocole de Wald), en partant du modèle choisi.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; PAN and MS layers as for &apos;MMMamba Pansharpen&apos; (MS bands in the model&apos;s band order), a time budget in minutes and the sensor, whose MTF gains shape the degradation. &apos;auto&apos; as starting model takes the shipped model for the MS band count, or trains from scratch if there is none.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Entrées.&lt;/b&gt; Couches PAN et MS comme pour « Pansharpening MMMamba » (bandes MS dans l'ordre des bandes du modèle), un budget de temps en minutes et le capteur, dont les gains de FTM déterminent la dégradation. Comme modèle de départ, « auto » prend le modèle fourni correspondant au nombre de bandes MS, ou entraîne à partir de zéro s'il n'y en a pas.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs.&lt;/b&gt; A new model file (.safetensors with its .json model card recording the scene and the training), usable in &apos;MMMamba Pansharpen&apos; as &apos;Model file&apos; or from the extra model folder; optionally the scene pan-sharpened with it.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Sorties.&lt;/b&gt; Un nouveau fichier de modèle (.safetensors accompagné de sa fiche .json qui décrit la scène et l'apprentissage), utilisable dans « Pansharpening MMMamba » comme « Fichier de modèle » ou depuis le dossier de modèles supplémentaire ; en option, la scène traitée par pansharpening avec ce modèle.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="61"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; Training is far faster on an NVIDIA GPU; on a CPU the same time budget runs far fewer training steps, so expect a smaller improvement.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;GPU ou CPU.&lt;/b&gt; L'apprentissage est bien plus rapide sur un GPU NVIDIA ; sur un CPU, le même budget de temps exécute beaucoup moins d'itérations d'apprentissage : attendez-vous à une amélioration plus modeste.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="91"/>
        <source>Panchromatic layer (PAN)</source>
        <translation>Couche panchromatique (PAN)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="94"/>
        <source>Multispectral layer (MS)</source>
        <translation>Couche multispectrale (MS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="97"/>
        <source>Time budget (minutes)</source>
        <translation>Budget de temps (minutes)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="107"/>
        <source>Starting model</source>
        <translation>Modèle de départ</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="108"/>
        <source>Sensor (MTF of the degradation; &apos;auto&apos;: from the file name)</source>
        <translation>Capteur (FTM de la dégradation ; « auto » : d'après le nom du fichier)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="117"/>
        <source>Largest PAN side used for training (pixels; larger: the centre)</source>
        <translation>Plus grand côté PAN utilisé pour l'apprentissage (pixels ; au-delà : le centre)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="128"/>
        <source>Fine-tuned model</source>
        <translation>Modèle affiné</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="128"/>
        <source>MMMamba model files (*.safetensors)</source>
        <translation>Fichiers de modèle MMMamba (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="135"/>
        <source>Scene pan-sharpened with the fine-tuned model</source>
        <translation>Scène traitée par pansharpening avec le modèle affiné</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="143"/>
        <source>Training steps</source>
        <translation>Itérations d'apprentissage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="144"/>
        <source>Validation L1 before</source>
        <translation>L1 de validation avant</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="145"/>
        <source>Validation L1 after</source>
        <translation>L1 de validation après</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="156"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation>Une couche PAN et une couche MS sont toutes deux nécessaires.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="191"/>
        <source>Stopped early: the best weights so far were written to {0}.</source>
        <translation>Arrêt anticipé : les meilleurs poids obtenus jusqu'ici ont été écrits dans {0}.</translation>
    </message>
</context>
<context>
    <name>MMMambaCommon</name>
    <message>
        <location filename="../plugin/algorithms/base.py" line="87"/>
        <source>Automatic (GPU when usable)</source>
        <translation>Automatique (GPU si utilisable)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="88"/>
        <source>CUDA GPU</source>
        <translation>GPU CUDA</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="89"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="94"/>
        <source>Device</source>
        <translation>Matériel de calcul</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="114"/>
        <source>Tile size (output pixels; smaller uses less memory)</source>
        <translation>Taille des tuiles (pixels de sortie ; plus petit = moins de mémoire)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="139"/>
        <source>Model file (.safetensors; overrides the model above)</source>
        <translation>Fichier de modèle (.safetensors ; remplace le modèle ci-dessus)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="187"/>
        <source>Layer &apos;{name}&apos; is not a file GDAL can read (provider &apos;{provider}&apos;). Save it as GeoTIFF first (right-click &gt; Export &gt; Save As).</source>
        <translation>La couche « {name} » n'est pas un fichier lisible par GDAL (fournisseur « {provider} »). Enregistrez-la d'abord en GeoTIFF (clic droit &gt; Exporter &gt; Sauvegarder sous).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="258"/>
        <source>Cancelled; no output was written.</source>
        <translation>Annulé ; aucune sortie n'a été écrite.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="273"/>
        <source>The device ran out of memory. Lower &apos;Tile size&apos; (Advanced parameters), set &apos;Batch size&apos; to 1, or run on the CPU.</source>
        <translation>Le matériel de calcul manque de mémoire. Réduisez « Taille des tuiles » (paramètres avancés), mettez « Taille de lot » à 1, ou exécutez sur le CPU.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="109"/>
        <source>Tile size (output pixels; empty = automatic: 1024 on a GPU, 512 on a CPU; smaller uses less memory)</source>
        <translation>Taille des tuiles (pixels de sortie ; vide = automatique : 1024 sur un GPU, 512 sur un CPU ; plus petit = moins de mémoire)</translation>
    </message>
</context>
<context>
    <name>MMMambaEnvironment</name>
    <message>
        <location filename="../plugin/environment.py" line="56"/>
        <source>Close QGIS, install them from a terminal, then start QGIS again:</source>
        <translation>Fermez QGIS, installez-les depuis un terminal, puis relancez QGIS :</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="59"/>
        <source>In the OSGeo4W Shell: python -m pip install {packages}</source>
        <translation>Dans l'OSGeo4W Shell : python -m pip install {packages}</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="52"/>
        <source>MMMamba needs PyTorch and safetensors in the Python that QGIS uses (Python {version}); missing: {missing}. Nothing was installed automatically.</source>
        <translation>MMMamba a besoin de PyTorch et de safetensors dans le Python utilisé par QGIS (Python {version}) ; manquant : {missing}. Rien n'a été installé automatiquement.</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="65"/>
        <source>CPU only (smaller download): {python} -m pip install --user {packages} --extra-index-url https://download.pytorch.org/whl/cpu</source>
        <translation>CPU uniquement (téléchargement plus léger) : {python} -m pip install --user {packages} --extra-index-url https://download.pytorch.org/whl/cpu</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="71"/>
        <source>With an NVIDIA GPU: {python} -m pip install --user {packages}</source>
        <translation>Avec un GPU NVIDIA : {python} -m pip install --user {packages}</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="76"/>
        <source>On Debian or Ubuntu, whose system Python refuses pip by default, add --break-system-packages or use a virtual environment made with &apos;python3 -m venv --system-site-packages&apos; and start QGIS from it.</source>
        <translation>Sous Debian ou Ubuntu, dont le Python système refuse pip par défaut, ajoutez --break-system-packages ou utilisez un environnement virtuel créé avec « python3 -m venv --system-site-packages » et lancez QGIS depuis celui-ci.</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="102"/>
        <source>A CUDA GPU is usable but mamba-ssm is not installed: the GPU runs the portable PyTorch scan, which is slower than the fused CUDA kernel.</source>
        <translation>Un GPU CUDA est utilisable mais mamba-ssm n'est pas installé : le GPU exécute le balayage PyTorch portable, plus lent que le noyau CUDA fusionné.</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="108"/>
        <source>An NVIDIA GPU is present but this PyTorch ({version}) is a CPU-only build; running on the CPU. Install a CUDA build of PyTorch to use the GPU.</source>
        <translation>Un GPU NVIDIA est présent mais ce PyTorch ({version}) est une version CPU uniquement ; exécution sur le CPU. Installez une version CUDA de PyTorch pour utiliser le GPU.</translation>
    </message>
    <message>
        <location filename="../plugin/environment.py" line="112"/>
        <source>An NVIDIA GPU is present but PyTorch (CUDA {cuda}) cannot use it (driver too old or GPU not supported); running on the CPU.</source>
        <translation>Un GPU NVIDIA est présent mais PyTorch (CUDA {cuda}) ne peut pas l'utiliser (pilote trop ancien ou GPU non pris en charge) ; exécution sur le CPU.</translation>
    </message>
</context>
<context>
    <name>MMMambaSettings</name>
    <message>
        <location filename="../plugin/settings.py" line="29"/>
        <source>Default device (auto, cuda or cpu)</source>
        <translation>Matériel de calcul par défaut (auto, cuda ou cpu)</translation>
    </message>
    <message>
        <location filename="../plugin/settings.py" line="39"/>
        <source>Extra folder with MMMamba models (.safetensors + .json)</source>
        <translation>Dossier supplémentaire de modèles MMMamba (.safetensors + .json)</translation>
    </message>
</context>
<context>
    <name>PansharpenAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="40"/>
        <source>MMMamba Pansharpen</source>
        <translation>Pansharpening MMMamba</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="44"/>
        <source>Pan-sharpening</source>
        <translation>Pansharpening</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;Fuses a high-resolution panchromatic band (PAN) with a lower-resolution multispectral image (MS) into a multispectral image on the PAN grid, with the MMMamba network.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Fusionne une bande panchromatique à haute résolution (PAN) avec une image multispectrale de plus faible résolution (MS) en une image multispectrale sur la grille du PAN, avec le réseau MMMamba.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; PAN: any single band of a raster (choose it with &apos;PAN band&apos;). MS: all bands, in the band order of the model (the model card lists it, e.g. blue, green, red, near-infrared). Both must overlap and be georeferenced; the MS pixel is usually 4 times the PAN pixel. 8-, 11-, 12- and 16-bit integers and floats are accepted: each scene is normalised by its own statistics. Nodata is respected.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Entrées.&lt;/b&gt; PAN : n'importe quelle bande d'un raster (choisie avec « Bande PAN »). MS : toutes les bandes, dans l'ordre des bandes du modèle (indiqué par la fiche du modèle, par ex. bleu, vert, rouge, proche infrarouge). Les deux doivent se recouvrir et être géoréférencées ; le pixel MS fait généralement 4 fois le pixel PAN. Les entiers 8, 11, 12 et 16 bits et les flottants sont acceptés : chaque scène est normalisée par ses propres statistiques. Les valeurs nodata sont respectées.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Model.&lt;/b&gt; &apos;auto&apos; takes the shipped model whose band count matches the MS image; choose another by name, or give a model file (.safetensors with its .json card) from the fine-tuning tool. Extra models can be placed in the folder set in Processing options &gt; Providers &gt; MMMamba.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Modèle.&lt;/b&gt; « auto » prend le modèle fourni dont le nombre de bandes correspond à l'image MS ; choisissez-en un autre par son nom, ou indiquez un fichier de modèle (.safetensors avec sa fiche .json) issu de l'outil d'affinage. Des modèles supplémentaires peuvent être placés dans le dossier défini dans Options &gt; Traitements &gt; Fournisseurs &gt; MMMamba.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;Output.&lt;/b&gt; A GeoTIFF with the MS bands at the PAN resolution, on the PAN grid (CRS and extent of the overlap), in the MS data type. It is loaded under the MS layer&apos;s name, in true colour when the model knows the band order.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Sortie.&lt;/b&gt; Un GeoTIFF contenant les bandes MS à la résolution du PAN, sur la grille du PAN (SCR et emprise de la zone commune), dans le type de données du MS. Il est chargé sous le nom de la couche MS, en couleurs naturelles lorsque le modèle connaît l'ordre des bandes.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="94"/>
        <source>Panchromatic layer (PAN)</source>
        <translation>Couche panchromatique (PAN)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="97"/>
        <source>PAN band</source>
        <translation>Bande PAN</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="105"/>
        <source>Multispectral layer (MS)</source>
        <translation>Couche multispectrale (MS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="108"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="111"/>
        <source>Tile overlap (PAN pixels; empty = automatic)</source>
        <translation>Recouvrement des tuiles (pixels PAN ; vide = automatique)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="122"/>
        <source>Batch size (tiles per network call)</source>
        <translation>Taille de lot (tuiles par appel du réseau)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="134"/>
        <source>Pan-sharpened</source>
        <translation>Image fusionnée</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="151"/>
        <source>Model &apos;{model}&apos; expects {expected} MS bands but layer &apos;{layer}&apos; has {actual}. Choose &apos;auto&apos; or a model made for {actual} bands.</source>
        <translation>Le modèle « {model} » attend {expected} bandes MS mais la couche « {layer} » en a {actual}. Choisissez « auto » ou un modèle conçu pour {actual} bandes.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="169"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation>Une couche PAN et une couche MS sont toutes deux nécessaires.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/pansharpen.py" line="52"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; &apos;Automatic&apos; uses an NVIDIA GPU when PyTorch can (with its Triton kernels and a tile size of 1024: about 10 million PAN pixels per second on an H200), else the CPU. The CPU is slower: with the shipped 4-band model a million PAN pixels (1000 x 1000) took about 50 seconds on two cores, so use a GPU for whole scenes or crop the scene first. Tile size is an upper bound that bounds memory: lower it if the device runs out of memory.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;GPU ou CPU.&lt;/b&gt; « Automatique » utilise un GPU NVIDIA lorsque PyTorch le peut (avec ses noyaux Triton et une taille de tuile de 1024 : environ 10 millions de pixels PAN par seconde sur un H200), sinon le CPU. Le CPU est plus lent : avec le modèle 4 bandes fourni, un million de pixels PAN (1000 x 1000) a pris environ 50 secondes sur deux cœurs ; utilisez donc un GPU pour des scènes entières ou découpez d'abord la scène. La taille des tuiles est un maximum qui borne la mémoire : réduisez-la si le matériel de calcul manque de mémoire.&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>QualityAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="55"/>
        <source>Pan-sharpening quality assessment</source>
        <translation>Évaluation de la qualité du pansharpening</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="59"/>
        <source>Pan-sharpening</source>
        <translation>Pansharpening</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;Measures how well MMMamba and classical methods pan-sharpen this scene, without any reference image.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Mesure la qualité du pansharpening de cette scène par MMMamba et par des méthodes classiques, sans aucune image de référence.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Reduced resolution (Wald&apos;s protocol).&lt;/b&gt; PAN and MS are degraded by the resolution ratio with filters matching the sensor&apos;s MTF, fused, and compared with the original MS: Q2n, SAM, ERGAS, SCC, PSNR, SSIM (ideal: Q2n, SCC, SSIM near 1; SAM, ERGAS near 0).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Résolution réduite (protocole de Wald).&lt;/b&gt; Le PAN et le MS sont dégradés du rapport de résolution avec des filtres adaptés à la FTM du capteur, fusionnés, puis comparés au MS d'origine : Q2n, SAM, ERGAS, SCC, PSNR, SSIM (idéal : Q2n, SCC, SSIM proches de 1 ; SAM, ERGAS proches de 0).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Full resolution.&lt;/b&gt; The fused products at the original scale are scored with D-lambda (spectral distortion), D-S (spatial distortion) and HQNR (ideal 1).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Pleine résolution.&lt;/b&gt; Les produits fusionnés à l'échelle d'origine sont notés avec D-lambda (distorsion spectrale), D-S (distorsion spatiale) et HQNR (idéal : 1).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; The PAN and MS layers as for &apos;MMMamba Pansharpen&apos; and the sensor, whose MTF gains drive the degradation (&apos;unknown&apos; uses generic gains).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Entrées.&lt;/b&gt; Les couches PAN et MS comme pour « Pansharpening MMMamba » et le capteur, dont les gains de FTM pilotent la dégradation (« unknown » utilise des gains génériques).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="67"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs.&lt;/b&gt; An HTML report with tables and image crops; the figures are also written as JSON and CSV beside it (or where &apos;Figures as JSON&apos; says). Classical methods take seconds; MMMamba runs on the device chosen (on a CPU, keep &apos;Largest PAN side assessed&apos; small).&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Sorties.&lt;/b&gt; Un rapport HTML avec des tableaux et des extraits d'images ; les chiffres sont aussi écrits en JSON et CSV à côté (ou à l'emplacement indiqué par « Chiffres en JSON »). Les méthodes classiques prennent quelques secondes ; MMMamba s'exécute sur le matériel choisi (sur un CPU, gardez « Plus grand côté PAN évalué » petit).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="100"/>
        <source>Panchromatic layer (PAN)</source>
        <translation>Couche panchromatique (PAN)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="103"/>
        <source>Multispectral layer (MS)</source>
        <translation>Couche multispectrale (MS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="106"/>
        <source>Sensor</source>
        <translation>Capteur</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="111"/>
        <source>Methods</source>
        <translation>Méthodes</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="120"/>
        <source>MMMamba model</source>
        <translation>Modèle MMMamba</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="122"/>
        <source>Largest PAN side assessed (pixels; larger scenes: the centre; 0 = all)</source>
        <translation>Plus grand côté PAN évalué (pixels ; scènes plus grandes : le centre ; 0 = tout)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="135"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="135"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="140"/>
        <source>Figures as JSON</source>
        <translation>Chiffres en JSON</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="140"/>
        <source>JSON files (*.json)</source>
        <translation>Fichiers JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="159"/>
        <source>Both a PAN and an MS layer are required.</source>
        <translation>Une couche PAN et une couche MS sont toutes deux nécessaires.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/quality.py" line="162"/>
        <source>Choose at least one method.</source>
        <translation>Choisissez au moins une méthode.</translation>
    </message>
</context>
<context>
    <name>ZeroShotSRAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="52"/>
        <source>Zero-shot SR</source>
        <translation>Super-résolution zéro-shot</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="56"/>
        <source>Super-resolution</source>
        <translation>Super-résolution</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;Increases the resolution of any raster by 2, 3, 4 or 8 with the MMMamba fusion network, without training data prepared by you.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Augmente la résolution de n'importe quel raster d'un facteur 2, 3, 4 ou 8 avec le réseau de fusion MMMamba, sans données d'apprentissage à préparer.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Guided.&lt;/b&gt; Give a co-registered higher-resolution raster as &apos;Guide&apos; (a panchromatic band, a 10 m Sentinel-2 band for its 20 m bands, an aerial image) and the band to use, or none for the mean of its bands. The guide&apos;s grid defines the output grid; the scale must equal the ratio of the input&apos;s pixel size to the guide&apos;s.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Guidée.&lt;/b&gt; Indiquez comme « Guide » un raster co-registré de plus haute résolution (une bande panchromatique, une bande Sentinel-2 à 10 m pour ses bandes à 20 m, une image aérienne) et la bande à utiliser, ou aucune pour la moyenne de ses bandes. La grille du guide définit la grille de sortie ; le facteur doit être égal au rapport entre la taille de pixel de l'entrée et celle du guide.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Unguided.&lt;/b&gt; Without a guide, the network&apos;s panchromatic input is synthesised from the input itself and the model adapts to the image by learning from downscaled copies of it, starting from the shipped weights. &apos;Adaptation steps&apos; or &apos;Adaptation time&apos; bound that learning; 0 steps uses the shipped weights only. Leave both empty for the default budget.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Non guidée.&lt;/b&gt; Sans guide, l'entrée panchromatique du réseau est synthétisée à partir de l'entrée elle-même et le modèle s'adapte à l'image en apprenant sur des copies sous-échantillonnées de celle-ci, à partir des poids fournis. « Itérations d'adaptation » ou « Durée d'adaptation » bornent cet apprentissage ; 0 itération utilise uniquement les poids fournis. Laissez les deux vides pour le budget par défaut.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Inputs.&lt;/b&gt; Any band count and bit depth (8-16-bit integers, floats); nodata is respected.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Entrées.&lt;/b&gt; N'importe quel nombre de bandes et profondeur de bits (entiers de 8 à 16 bits, flottants) ; les valeurs nodata sont respectées.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;Output.&lt;/b&gt; A GeoTIFF in the same CRS and origin, pixel size divided by the scale, in the input&apos;s data type, loaded under the input&apos;s name.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Sortie.&lt;/b&gt; Un GeoTIFF dans le même SCR et avec la même origine, la taille de pixel divisée par le facteur, dans le type de données de l'entrée, chargé sous le nom de l'entrée.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="64"/>
        <source>&lt;p&gt;&lt;b&gt;GPU or CPU.&lt;/b&gt; Adaptation trains the network, which is far faster on an NVIDIA GPU; on a CPU keep the adaptation budget to a few minutes and the input small.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;GPU ou CPU.&lt;/b&gt; L'adaptation entraîne le réseau, ce qui est bien plus rapide sur un GPU NVIDIA ; sur un CPU, limitez le budget d'adaptation à quelques minutes et gardez une entrée de petite taille.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="104"/>
        <source>Input raster</source>
        <translation>Raster en entrée</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="105"/>
        <source>Scale factor</source>
        <translation>Facteur d'agrandissement</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="113"/>
        <source>Guide (higher-resolution band)</source>
        <translation>Guide (bande de plus haute résolution)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="118"/>
        <source>Guide band (empty: the mean of the guide&apos;s bands)</source>
        <translation>Bande du guide (vide : moyenne des bandes du guide)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="126"/>
        <source>Adaptation steps (0 = shipped weights only; empty = default)</source>
        <translation>Itérations d'adaptation (0 = poids fournis uniquement ; vide = par défaut)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="135"/>
        <source>Adaptation time in seconds (instead of steps)</source>
        <translation>Durée d'adaptation en secondes (au lieu des itérations)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="144"/>
        <source>Model file (.safetensors; default: the shipped model)</source>
        <translation>Fichier de modèle (.safetensors ; par défaut : le modèle fourni)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="178"/>
        <source>Super-resolved</source>
        <translation>Image super-résolue</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="192"/>
        <source>Give either &apos;Adaptation steps&apos; or &apos;Adaptation time&apos;, not both.</source>
        <translation>Indiquez soit « Itérations d'adaptation », soit « Durée d'adaptation », pas les deux.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="250"/>
        <source>{name} ×{scale}</source>
        <translation>{name} ×{scale}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="154"/>
        <source>Flipped and rotated views averaged (more: better, slower)</source>
        <translation>Vues retournées et pivotées moyennées (plus : meilleur, plus lent)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/zeroshotsr.py" line="164"/>
        <source>Back-projection iterations (0 = none)</source>
        <translation>Itérations de rétroprojection (0 = aucune)</translation>
    </message>
</context>
</TS>
