"""Word lists for the demo place: people's names, nicknames, streets, wards and premises.

Hand-written rather than taken from a fake-data library: the same seed must give
byte-identical files on every machine and every release, and fake-data libraries change
their output between versions. Nickname pairs are needed for realistic name variation
anyway, and no library pairs them with its name lists.
"""

from __future__ import annotations

MALE_FORENAMES = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Daniel", "Matthew",
    "Anthony", "Mark", "Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George",
    "Edward", "Ronald", "Timothy", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric",
    "Jonathan", "Stephen", "Lee", "Christopher", "Harry", "Oliver", "Jack", "Charlie", "Alfie", "Leo",
    "Noah", "Oscar", "Arthur", "Muhammad", "Mohammed", "Ahmed", "Tomasz", "Piotr", "Liam", "Connor",
    "Callum", "Dylan", "Kieran", "Samuel", "Benjamin", "Joseph", "Alexander", "Frederick", "Peter", "Graham",
)
FEMALE_FORENAMES = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
    "Nancy", "Margaret", "Lisa", "Betty", "Dorothy", "Sandra", "Ashley", "Kimberly", "Donna", "Emily",
    "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura", "Helen", "Sharon",
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Freya", "Florence", "Poppy", "Evie", "Ella", "Chloe", "Jade", "Leanne", "Kelly",
    "Gemma", "Katherine", "Victoria", "Samantha", "Joanne", "Nicola", "Aisha", "Fatima", "Agnieszka", "Zofia",
)
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
    "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
    "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
    "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
    "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
    "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "O'Brien", "O'Connor", "McDonald", "Ahmed", "Kowalski", "Nowak", "Wisniewski", "Nguyen", "Chen", "Okafor",
    "Smith-Jones", "Barker-Hale", "Fitzgerald", "Pearson", "Hartley", "Ashworth", "Whitehead", "Greenwood",
)
NICKNAMES: dict[str, tuple[str, ...]] = {
    "James": ("Jim", "Jimmy", "Jamie"), "John": ("Jon", "Johnny", "Jack"), "Robert": ("Rob", "Bob", "Bobby"),
    "Michael": ("Mike", "Mick"), "William": ("Will", "Bill", "Billy"), "David": ("Dave", "Davey"),
    "Richard": ("Rich", "Dick", "Ricky"), "Thomas": ("Tom", "Tommy"), "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",), "Anthony": ("Tony", "Ant"), "Steven": ("Steve",), "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",), "Kenneth": ("Ken", "Kenny"), "Edward": ("Ed", "Eddie", "Ted"), "Ronald": ("Ron", "Ronnie"),
    "Timothy": ("Tim",), "Nicholas": ("Nick", "Nicky"), "Jonathan": ("Jon",), "Stephen": ("Steve",),
    "Christopher": ("Chris", "Kit"), "Harry": ("Harold",), "Alexander": ("Alex", "Sandy"), "Samuel": ("Sam",),
    "Benjamin": ("Ben",), "Joseph": ("Joe", "Joey"), "Frederick": ("Fred", "Freddie"), "Peter": ("Pete",),
    "Mohammed": ("Mohammad", "Muhammed"), "Muhammad": ("Mohammed", "Mohamed"), "Tomasz": ("Tom",),
    "Patricia": ("Pat", "Trish"), "Jennifer": ("Jen", "Jenny"), "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Barbara": ("Barb",), "Susan": ("Sue", "Suzie"), "Jessica": ("Jess",), "Margaret": ("Maggie", "Peggy", "Meg"),
    "Dorothy": ("Dot", "Dotty"), "Sandra": ("Sandy",), "Kimberly": ("Kim",), "Deborah": ("Debbie", "Deb"),
    "Stephanie": ("Steph",), "Rebecca": ("Becky", "Becca"), "Katherine": ("Kate", "Katie", "Kathy"),
    "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam", "Sammy"), "Nicola": ("Nicky",), "Isabella": ("Bella", "Izzy"),
    "Amanda": ("Mandy",), "Melissa": ("Mel",), "Florence": ("Flo",), "Agnieszka": ("Aga",),
}
STREET_STEMS = (
    "Mill", "Church", "Station", "Victoria", "Park", "Queens", "Kings", "Albert", "Chapel", "Manor",
    "Grange", "School", "Springfield", "Highfield", "Brook", "Oak", "Elm", "Ash", "Beech", "Willow",
    "Cedar", "Holly", "Hawthorn", "Meadow", "Orchard", "Bridge", "Canal", "Wharf", "Market", "Castle",
    "Priory", "Abbey", "Rectory", "Vicarage", "Farm", "Moor", "Heath", "Common", "Green", "Hill",
    "Windmill", "Forge", "Tannery", "Weavers", "Spinners", "Foundry", "Nelson", "Wellington", "Trafalgar",
    "Cromwell", "Stanley", "Derby", "Lime", "Poplar", "Sycamore", "Chestnut", "Rowan", "Larch", "Hazel",
    "Primrose", "Bluebell", "Foxglove", "Heather", "Kestrel", "Falcon", "Lark", "Wren", "Swallow",
)
STREET_SUFFIXES = ("Street", "Road", "Lane", "Close", "Avenue", "Drive", "Way", "Crescent", "Grove", "Terrace",
                   "Gardens", "Place", "Walk", "Rise", "View", "Court")
WARD_NAMES = (
    "Abbey", "Castle", "Priory", "St Mary's", "Mill Brook", "Northgate", "Southfields", "Westwood", "Eastfield",
    "Hillcrest", "Riverside", "Oakfield", "Brookside", "Greenhill", "Hollybank", "Kingsmead", "Moorside",
    "Newtown", "Parkside", "Queensway", "Redhill", "Stonebridge", "Thornley", "Underwood", "Vale", "Willowdale",
    "Fernside", "Ashfield", "Beacon", "Chapel End", "Heathcote", "Longmoor", "Marsh Green", "Nethercote",
)
# (settlement index → district name, town name). -1 is the countryside, named after its district.
DISTRICT_NAMES = ("Wenlow", "Ashcombe", "Tarnbury")
PLACE_NAME = "Wenlow Vale"

# Non-residential premises that draw demand: kind, name, police.uk snap-point description.
PREMISES = {
    "pub": (("The Red Lion", "The Crown", "The Plough", "The Swan", "The Royal Oak", "Bar Zero", "The Vaults",
             "Club Neon"), "On or near Nightclub"),
    "shop": (("Supermarket", "Convenience store", "Retail park", "Shopping centre"), "On or near Supermarket"),
    "hospital": (("Wenlow General Hospital",), "On or near Hospital"),
    "mh_unit": (("Oakwood House mental health unit",), "On or near Hospital"),
    "care_home": (("Meadowbank care home", "Elmtree Lodge care home", "Brookfield residential home"),
                  "On or near Sports/Recreation Area"),
    "station": (("Railway station", "Bus station"), "On or near Parking Area"),
}
