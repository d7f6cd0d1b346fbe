"""Name pools for synthetic residents: the mix of origins found in Villeurbanne and Lyon.

Every name is plain text without tabs or backslashes, which `scale.py` relies on for COPY.
"""

from __future__ import annotations


def _pool(text: str) -> tuple[str, ...]:
    # One name per comma; lines group names by origin, so the pools stay easy to review.
    return tuple(name.strip() for name in text.replace("\n", ",").split(",") if name.strip())


FEMALE_FIRST_NAMES = _pool(
    """
    Camille, Léa, Manon, Chloé, Emma, Louise, Juliette, Claire, Sophie, Nathalie, Isabelle
    Sandrine, Céline, Élodie, Margaux, Anaïs, Zoé, Agathe, Lucie, Mathilde, Hélène, Jeanne
    Yasmine, Nadia, Samira, Leïla, Fatima, Amina, Sofia, Meriem, Khadija, Salma, Nour, Rania
    Houda, Lina, Aminata, Fatou, Awa, Mariama, Aïssatou, Kadiatou, Ndeye
    Ana, Beatriz, Mariana, Carmen, Lucía, Pilar, Giulia, Chiara, Francesca
    Anahit, Nairi, Elif, Zeynep, Ayşe, Oksana, Natalia, Ioana, Linh, Mai, Thu, Mei, Priya
    """
)

MALE_FIRST_NAMES = _pool(
    """
    Thomas, Nicolas, Julien, Antoine, Maxime, Hugo, Louis, Gabriel, Arthur, Paul, Pierre
    Jean, Michel, Philippe, Christophe, Sébastien, Mathieu, Baptiste, Théo, Rémi, Loïc, Étienne
    Karim, Mehdi, Yanis, Rayan, Youssef, Omar, Bilal, Nabil, Hakim, Farid, Mohamed, Adam
    Ilyes, Walid, Moussa, Mamadou, Ibrahima, Ousmane, Abdoulaye, Cheikh, Seydou
    João, Tiago, Rui, Diogo, Carlos, Javier, Alejandro, Marco, Luca, Giovanni
    Aram, Tigran, Vahé, Emre, Mehmet, Andrei, Bogdan, Piotr, Minh, Duc, Wei, Hao, Arjun
    """
)

LAST_NAMES = _pool(
    """
    Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent
    Lefebvre, Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, Morel, Girard, Bonnet
    Dupont, Lambert, Fontaine, Rousseau, Blanc, Guérin, Muller, Chevalier, Perrin, Gauthier
    Mercier, Berthier, Brun, Chapuis, Jacquet, Perret, Vial
    Benali, Bouzid, Belkacem, Cherif, Mansouri, Amrani, Benaïssa, Kaci, Hamidi, Ziani
    Rahmani, Boudjema, El Idrissi, Saïdi, Meziane
    Diallo, Traoré, Ndiaye, Diop, Camara, Koné, Sow, Keïta, Cissé, Fofana
    Da Silva, Pereira, Ferreira, Rodrigues, Gonçalves, Martins, Oliveira, Fernández, López
    Sánchez, Rossi, Bianchi, Romano, Esposito, Ricci
    Petrossian, Manoukian, Sarkissian, Yılmaz, Demir, Kaya, Kowalski, Popescu, Ivanova
    Nguyen, Tran, Pham, Chen, Wang, Zhang, Patel
    """
)
