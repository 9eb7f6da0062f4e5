"""Stop words for topic keywords: Danish, Norwegian (bokmål and common nynorsk) and English.

Written out here so nothing is downloaded at run time. The lists hold function words and the
fillers that phone-call summaries and transcripts are full of ("ringer", "gerne", "hello"), not
domain words: "regning" or "card" must stay available as reason keywords.
"""

from __future__ import annotations

DANISH: frozenset[str] = frozenset(
    """
    af alle allerede alligevel alt altid anden andet andre at bag bare begge blev blive bliver
    bør da dag de dem den denne dens der deres dermed derfor derefter dersom det dette dig din
    dine disse dit dog du efter egen eller ellers en end endnu ene eneste enhver ens enten er et
    fandt far fik fin fint fleste for fordi foran forbi fordi fra få får før først gennem gerne
    gik gjorde gjort god godt gør gøre går ham han hans har havde have hej hele hende hendes her
    herefter heller hen hos hun hvad hvem hver hvilke hvilken hvilket hvis hvor hvordan hvorfor
    hvornår i igen ikke ind indtil ja jeg jer jeres jo kan kom komme kommer kun kunne lad lang
    langt lidt lige lille man mange med meget mellem men mens mere mest mig min mine mit mod må
    måske måtte ned nej noget nogen nogle nok nu ny nye nyt når og også okay om omkring op os
    over overfor på ret rigtig ringe ringede ringer samme sammen selv selvom sig sige siger sin
    sine sit skal skulle som stadig stor store så sådan tak tage tager til tilbage uden under
    ud vær være været vi vil ville vor vore vores vel via åh øh øhm hmm altså også bare egentlig
    kunde kunden kundens opkald opringning henvender henvendte spørger spurgte vedrørende ift
    angående omkring ønsker ønskede fortæller fortalte oplyser oplyste gang lige nemlig
    """.split()
)
"""Danish function words plus call fillers ('kunden ringer vedrørende ...')."""

NORWEGIAN: frozenset[str] = frozenset(
    """
    alle allerede alltid andre at av bak bare begge ble bli blir blitt både da dag de deg dei
    deim deira deires dem den denne der dere deres det dette di din disse ditt du dykk dykkar
    eg ein eit eitt eller ellers en ene eneste enn er et ett etter for fordi foran fra få får
    før først gjennom gjerne gjorde gjort god godt gå går ha hadde han hans har hei hele hen
    her hjå ho hoe honom hoss hossen hun hva hvem hver hvilke hvilken hvis hvor hvordan hvorfor
    hvorledes i igjen ikke ikkje inn innen ja jeg kan kom komme kommer korleis korso kun kunne
    kva kvar kvarhelst kven kvi kvifor la lang langt litt man mange me med meg meget mellom men
    mens mer mest min mine mitt mot mye må måtte ned nei noe noen nok nokon noko nokre nå når og
    også okei om opp oss over på rett ringe ringer ringte samme sammen seg selv si sia sidan
    siden sier sin sine sitt sjøl skal skulle slik so som stadig stor store så takk ta tar til
    tilbake uten under ut var vart vere verte vi vil ville vore vors vort vår være vært å eh ehm
    hmm altså egentlig kunden kundens kunde samtale henvendelse henvender spør spurte angående
    vedrørende ønsker ønsket forteller fortalte opplyser opplyste gang liksom nemlig jo vel
    """.split()
)
"""Norwegian (bokmål and nynorsk) function words plus call fillers."""

ENGLISH: frozenset[str] = frozenset(
    """
    a about above after again against all almost also am an and any anyone anything are aren't
    as at be because been before being below between both but by can can't cannot could
    couldn't did didn't do does doesn't doing don't done down during each either else even ever
    every few for from further get gets getting got had hadn't has hasn't have haven't having he
    her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's
    its itself just let let's like many may me might more most much must mustn't my myself need
    needs no nor not now of off often on once one only or other our ours ourselves out over own
    please really same shall she should shouldn't so some something still such than thank thanks
    that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those though through to too under until up upon us very via was wasn't
    we we'd we'll we're we've were weren't what what's when where which while who whom whose why
    will with within without won't would wouldn't yes yet you you'd you'll you're you've your
    yours yourself yourselves hi hello hey ok okay um uh hmm well want wanted wants know going
    go able would'nt im dont cant ive id whats customer customers caller called calling
    asked asks asking says said wants regarding
    aren couldn didn doesn don hadn hasn haven isn ll mustn nt re shouldn ve wasn weren won
    wouldn
    """.split()
)
"""English function words plus call fillers ('customer called regarding ...')."""

ALL: frozenset[str] = DANISH | NORWEGIAN | ENGLISH
"""The union the topic vectorizer uses: calls mix languages, and a stop word stays a stop word."""

TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W_]+\b"
"""Words of two or more letters or digits that start with a letter; keeps æ, ø, å and é."""
